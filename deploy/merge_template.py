"""The CloudFormation merge template for `chalice package --merge-template`, derived from config.

    python -m deploy.merge_template [--stage prod] [--out build/merge-template-prod.json]

It starts from `.chalice/merge-template-<stage>.json` (the DynamoDB table, written by hand) and
adds what must follow the stage's configuration instead of being copied by hand:
- GatewayResponses for DEFAULT_4XX / DEFAULT_5XX with CORS headers, so errors API Gateway
  answers itself (unknown route, throttling, timeouts) reach the browser as themselves instead of
  as "CORS error". A gateway response cannot echo the request's Origin conditionally, so it
  names ONE origin: the stage's first exact https origin in ALLOWED_ORIGINS (the production
  frontend). Other allowed origins (e.g. http://localhost:3000 against prod) still see those
  gateway errors as CORS failures; the app's own responses are unaffected.
- Those gateway responses answer in the app's error shape (`{"error", "message"}`, a code from
  chalicelib.errors.ErrorCode) with fixed messages: never API Gateway's own message, which for a
  path with no route and an `Authorization: Bearer ...` header echoes the whole header. A path
  with no route (MISSING_AUTHENTICATION_TOKEN, and INVALID_SIGNATURE: no route here is
  IAM-signed, so that one too means a bearer token sent to a path that does not exist) is a 404
  `not_found`, not API Gateway's 403.
- Stage throttling (rate and burst) from API_THROTTLE_RATE / API_THROTTLE_BURST.
- CloudWatch alarms on the API stage's 5xx count and p99 latency and on the function's errors
  and throttles, notifying an SNS topic (subscribe to it: see the README).
- The function's log group with LOG_RETENTION_DAYS, and OpenApiVersion (one API stage, not two).

`make deploy` (deploy/production.py) applies the same resources with API calls after `chalice deploy`.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chalicelib.errors import ErrorCode

ROOT = Path(__file__).resolve().parent.parent

# Build-time settings: name, default, meaning (the README's table lists them too).
BUILD_SETTINGS: dict[str, tuple[int, str]] = {
    "API_THROTTLE_RATE": (25, "steady requests per second the prod stage accepts before 429"),
    "API_THROTTLE_BURST": (50, "burst size above the steady rate"),
    "ALARM_5XX_PER_5_MINUTES": (5, "5xx responses in 5 minutes that raise the alarm"),
    "ALARM_P99_LATENCY_MS": (3000, "p99 latency in ms, over 3 consecutive 5-minute periods, that raises the alarm"),
    "LOG_RETENTION_DAYS": (30, "days CloudWatch keeps the function's logs (one CloudWatch accepts: 7, 30, 90...)"),
}
# The values CloudWatch Logs accepts for a log group's retention (PutRetentionPolicy).
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
EXPOSE_HEADERS = "ETag, Location, Retry-After, WWW-Authenticate"


def build_setting(name: str, environ: Mapping[str, str]) -> int:
    default, _ = BUILD_SETTINGS[name]
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise SystemExit(f"{name} must be a positive whole number, not {raw!r}")
    if name == "LOG_RETENTION_DAYS" and int(raw) not in RETENTION_DAYS:
        raise SystemExit(f"{name} must be one of {', '.join(map(str, sorted(RETENTION_DAYS)))}, not {raw}")
    return int(raw)


def gateway_origin(allowed_origins: str) -> str | None:
    """The one origin gateway-made error responses may name: the first exact https origin."""
    for item in allowed_origins.replace("[", "").replace("]", "").replace('"', "").split(","):
        origin = item.strip().rstrip("/").lower()
        if origin.startswith("https://") and "*" not in origin:
            return origin
    return None


# Gateway response type -> (status, or None: the one API Gateway chose; our code; the message).
GATEWAY_ERRORS: dict[str, tuple[int | None, ErrorCode, str]] = {
    "MISSING_AUTHENTICATION_TOKEN": (404, ErrorCode.NOT_FOUND, "No such route: check the method and the path."),
    "INVALID_SIGNATURE": (404, ErrorCode.NOT_FOUND, "No such route: check the method and the path."),
    "THROTTLED": (429, ErrorCode.RATE_LIMITED, "Too many requests right now; try again shortly."),
    "REQUEST_TOO_LARGE": (413, ErrorCode.PAYLOAD_TOO_LARGE, "The request is too large."),
    "UNSUPPORTED_MEDIA_TYPE": (415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The request's Content-Type is not accepted."),
    "DEFAULT_4XX": (None, ErrorCode.BAD_REQUEST, "The API's gateway refused the request."),
    "DEFAULT_5XX": (None, ErrorCode.SERVICE_UNAVAILABLE, "The API could not answer right now; try again shortly."),
}


def error_body(code: ErrorCode, message: str) -> dict[str, str]:
    """What a gateway response sends: the app's error shape, nothing taken from the request."""
    return {"error": code.value, "message": message, "detail": message}


def gateway_responses(origin: str | None) -> dict[str, Any]:
    """GatewayResponses for the RestAPI: our error shape, and CORS headers for `origin` if any."""
    headers = (
        {
            "Access-Control-Allow-Origin": _quoted(origin),
            "Access-Control-Allow-Credentials": _quoted("true"),
            "Access-Control-Expose-Headers": _quoted(EXPOSE_HEADERS),
            "Vary": _quoted("Origin"),
        }
        if origin is not None
        else {}
    )
    responses: dict[str, Any] = {}
    for kind, (status, code, message) in GATEWAY_ERRORS.items():
        response: dict[str, Any] = {
            "ResponseTemplates": {"application/json": json.dumps(error_body(code, message), separators=(",", ":"))},
        }
        if headers:
            response["ResponseParameters"] = {"Headers": headers}
        if status is not None:
            response["StatusCode"] = str(status)
        responses[kind] = response
    return responses


def _quoted(value: str) -> str:
    return f"'{value}'"  # API Gateway header mapping values are quoted literals


def _alarm(
    description: str, namespace: str, metric: str, dimensions: list[dict[str, Any]], **props: Any
) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": namespace,
            "MetricName": metric,
            "Dimensions": dimensions,
            "Period": 300,
            "EvaluationPeriods": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [{"Ref": "AlarmTopic"}],
            "OKActions": [{"Ref": "AlarmTopic"}],
            **props,
        },
    }


def build(stage: str = "prod", environ: Mapping[str, str] = os.environ, root: Path = ROOT) -> dict[str, Any]:
    config = json.loads((root / ".chalice" / "config.json").read_text())
    stage_config = config["stages"][stage]
    api_name = config["app_name"]
    api_stage = stage_config.get("api_gateway_stage", "api")
    variables = {**config.get("environment_variables", {}), **stage_config.get("environment_variables", {})}
    template: dict[str, Any] = json.loads((root / ".chalice" / f"merge-template-{stage}.json").read_text())
    resources = template.setdefault("Resources", {})

    # Any OpenApiVersion makes SAM leave out the extra stage named "Stage" it otherwise adds next
    # to ours (outside the throttling and the alarms); chalice's document is Swagger 2.0.
    api: dict[str, Any] = {"Name": api_name, "OpenApiVersion": "2.0"}
    api["GatewayResponses"] = gateway_responses(gateway_origin(variables.get("ALLOWED_ORIGINS", "")))
    api["MethodSettings"] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": build_setting("API_THROTTLE_RATE", environ),
            "ThrottlingBurstLimit": build_setting("API_THROTTLE_BURST", environ),
        }
    ]
    resources.setdefault("RestAPI", {}).setdefault("Properties", {}).update(api)

    # The function's own log group, with retention. Not chalice's log_retention_in_days: on the
    # deploy path chalice 1.34 sets it on /aws/lambda/<function>-api_handler, a group the function
    # (named <app>-<stage>) never writes to, and in a template it writes "${ApiHandler}" where the
    # logical id is APIHandler. deploy/production.py sets the same retention on the deploy path.
    resources["ApiHandlerLogGroup"] = {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {"Fn::Sub": "/aws/lambda/${APIHandler}"},
            "RetentionInDays": build_setting("LOG_RETENTION_DAYS", environ),
        },
    }

    resources["AlarmTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": f"{api_name} {stage} alarms"}}
    api_dimensions = [{"Name": "ApiName", "Value": api_name}, {"Name": "Stage", "Value": api_stage}]
    function_dimensions = [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}]
    resources["Api5xxAlarm"] = _alarm(
        f"{api_name} {stage}: 5xx responses",
        "AWS/ApiGateway",
        "5XXError",
        api_dimensions,
        Statistic="Sum",
        Threshold=build_setting("ALARM_5XX_PER_5_MINUTES", environ),
    )
    resources["ApiLatencyAlarm"] = _alarm(
        f"{api_name} {stage}: p99 latency",
        "AWS/ApiGateway",
        "Latency",
        api_dimensions,
        ExtendedStatistic="p99",
        Threshold=build_setting("ALARM_P99_LATENCY_MS", environ),
        EvaluationPeriods=3,
        DatapointsToAlarm=3,
    )
    resources["FunctionErrorsAlarm"] = _alarm(
        f"{api_name} {stage}: function errors",
        "AWS/Lambda",
        "Errors",
        function_dimensions,
        Statistic="Sum",
        Threshold=1,
    )
    resources["FunctionThrottlesAlarm"] = _alarm(
        f"{api_name} {stage}: function throttles",
        "AWS/Lambda",
        "Throttles",
        function_dimensions,
        Statistic="Sum",
        Threshold=1,
    )
    template.setdefault("Outputs", {})["AlarmTopicArn"] = {"Value": {"Ref": "AlarmTopic"}}
    return template


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.merge_template",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out", default=None, help="default: build/merge-template-<stage>.json")
    args = parser.parse_args(argv)
    out = Path(args.out or ROOT / "build" / f"merge-template-{args.stage}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(build(args.stage), indent=2) + "\n")
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
