"""The dev stand-in for Google Sign-In.

    python -m local_google token --email you@example.com [--name "You"]   # print an ID token
    python -m local_google serve [--port 8765]                           # certs + GET /token?email=...
    python -m local_google demo [--api http://localhost:8000]             # a demo person's job search
    python -m local_google keygen                                        # new dev key (rarely)

Tokens are signed with the committed dev key (`dev-signing-key.pem`), whose certificate is in
`certs.json`: the dev stage trusts that file (GOOGLE_CERTS_URL in .chalice/config.json); a
production stage refuses every certs source but Google's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from local_google.dev import CERTS_FILE, KEY_FILE, dev_issuer
from local_google.issuer import SigningKey, subject_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_google", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="print a Google-style ID token for the dev stage")
    token.add_argument("--email", default="jane.doe@example.com")
    token.add_argument("--name", default=None)
    token.add_argument("--sub", default=None, help="Google account id (default: derived from the email)")
    token.add_argument("--expires-in", type=int, default=3600, help="seconds (default 3600, like Google's)")
    serve = commands.add_parser("serve", help="serve the dev certs and GET /token?email=... on loopback")
    serve.add_argument("--port", type=int, default=8765)
    commands.add_parser("keygen", help="write a new dev-signing-key.pem and certs.json")
    demo = commands.add_parser("demo", help="sign in a demo person and fill their tracker through the API (once)")
    demo.add_argument("--api", default="http://localhost:8000", help="the API's base URL (default: make run's)")
    demo.add_argument("--email", default="demo@example.com")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from local_google.demo import main as demo_main

        return demo_main(args.api, args.email)

    if args.command == "keygen":
        key = SigningKey()
        KEY_FILE.write_bytes(key.private_pem())
        CERTS_FILE.write_text(json.dumps({key.kid: key.cert_pem}, indent=2) + "\n")
        print(f"wrote {KEY_FILE.name} and {CERTS_FILE.name} (kid {key.kid})")
        return 0
    issuer = dev_issuer(port=args.port if args.command == "serve" else 0)
    if args.command == "token":
        now = int(time.time())
        name = args.name or args.email.split("@")[0].replace(".", " ").title()
        print(
            issuer.id_token(
                sub=args.sub or subject_for(args.email),
                email=args.email,
                name=name,
                picture=None,
                iat=now,
                exp=now + args.expires_in,
            )
        )
        return 0
    with issuer:
        print(f"local Google stand-in on http://127.0.0.1:{args.port}: GET /token?email=you@example.com", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
