"""Sending e-mail: Amazon SES v2 on production stages, .eml files in an outbox folder on dev.

boto3 is imported by the SES mailer when it first sends, never by the API's routes.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.settings import Settings

if TYPE_CHECKING:
    from email.message import EmailMessage


@dataclass(frozen=True)
class Message:
    """One e-mail: plain text and HTML alternatives, plus extra headers (List-Unsubscribe ...)."""

    sender: str
    to: str
    subject: str
    text: str
    html: str
    headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def mime(self) -> EmailMessage:
        from email.message import EmailMessage  # the reminder pass only: not on the API's cold start
        from email.utils import formatdate, make_msgid

        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = self.to
        msg["Subject"] = self.subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.sender.rsplit("@", 1)[-1])
        for name, value in self.headers:
            msg[name] = value
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        return msg


class Mailer(Protocol):
    def send(self, message: Message) -> str:
        """Send it; the message id, or an exception when it was not accepted."""
        ...


class OutboxMailer:
    """Development: each message becomes an .eml file (open it in any mail program) under `folder`."""

    def __init__(self, folder: str) -> None:
        self.folder = folder

    def send(self, message: Message) -> str:
        os.makedirs(self.folder, exist_ok=True)
        name = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}.eml"
        path = os.path.join(self.folder, name)
        with open(path, "wb") as f:
            f.write(message.mime().as_bytes())
        return name


class SesMailer:
    """Amazon SES v2 SendEmail with the raw message (so List-Unsubscribe headers go out as written)."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # only a reminder pass on a production stage pays for it

            self._client = boto3.client("sesv2")
        return self._client

    def send(self, message: Message) -> str:
        reply = self.client.send_email(
            FromEmailAddress=message.sender,
            Destination={"ToAddresses": [message.to]},
            Content={"Raw": {"Data": message.mime().as_bytes()}},
        )
        return str(reply.get("MessageId", ""))


def mailer_for(settings: Settings) -> Mailer:
    if settings.mailer_kind == "outbox":
        return OutboxMailer(settings.outbox_dir)
    return SesMailer()
