# mypy: ignore-errors
"""Seed reference: "Job Hunt Tracker API" on FastAPI + Mangum, as the deployment log describes.

Lambda handler: ``main.handler``. Routes: GET /health, POST /auth/google, GET /api/user.
Env: GOOGLE_CLIENT_ID, JWT_SECRET_KEY (required), ALLOWED_ORIGINS, GOOGLE_CERTS_URL (optional).
"""

from datetime import datetime, timedelta, timezone
from typing import Optional

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.middleware.cors import CORSMiddleware
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from google.auth import exceptions as google_exceptions
from google.auth.transport import requests as google_requests
from google.oauth2 import id_token
from jose import JWTError, jwt
from mangum import Mangum
from pydantic import BaseModel, EmailStr, ValidationError

from config.settings import settings

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")

# No root_path: for REST API (v1) events Mangum routes on event["path"], which API Gateway
# sends without the stage prefix on the execute-api endpoint ("/health", not "/prod/health").
app = FastAPI(title="Job Hunt Tracker API", version="1.0.0")

app.add_middleware(
    CORSMiddleware,
    allow_origins=settings.get_allowed_origins(),
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


class GoogleAuthRequest(BaseModel):
    token: str


class User(BaseModel):
    id: str
    email: EmailStr
    name: Optional[str] = None
    picture: Optional[str] = None


class AuthResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    user: User


bearer_scheme = HTTPBearer(auto_error=False)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail=detail,
                         headers={"WWW-Authenticate": "Bearer"})


def verify_google_id_token(token: str) -> dict:
    """google.oauth2.id_token.verify_oauth2_token, with the certs URL taken from settings."""
    idinfo = id_token.verify_token(token, google_requests.Request(),
                                   audience=settings.GOOGLE_CLIENT_ID,
                                   certs_url=settings.GOOGLE_CERTS_URL)
    if idinfo.get("iss") not in GOOGLE_ISSUERS:
        raise ValueError(f"wrong issuer {idinfo.get('iss')!r}")
    return idinfo


def create_access_token(user: User) -> str:
    now = datetime.now(timezone.utc)
    claims = {
        "sub": user.id,
        "email": user.email,
        "name": user.name,
        "picture": user.picture,
        "iat": now,
        "exp": now + timedelta(hours=settings.JWT_EXPIRATION_HOURS),
    }
    return jwt.encode(claims, settings.JWT_SECRET_KEY, algorithm=settings.JWT_ALGORITHM)


async def get_current_user(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer_scheme),
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("Not authenticated")
    try:
        claims = jwt.decode(credentials.credentials, settings.JWT_SECRET_KEY,
                            algorithms=[settings.JWT_ALGORITHM])
        return User(id=claims["sub"], email=claims["email"],
                    name=claims.get("name"), picture=claims.get("picture"))
    except (JWTError, KeyError, ValidationError):
        raise _unauthorized("Invalid or expired token") from None


@app.get("/health")
async def health() -> dict:
    return {"status": "healthy",
            "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")}


@app.post("/auth/google", response_model=AuthResponse)
async def auth_google(request: GoogleAuthRequest) -> AuthResponse:
    try:
        idinfo = verify_google_id_token(request.token)
    except google_exceptions.TransportError as exc:
        raise HTTPException(status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail="Could not fetch Google certificates") from exc
    except (ValueError, google_exceptions.GoogleAuthError):
        raise _unauthorized("Invalid Google token") from None
    try:
        user = User(id=idinfo["sub"], email=idinfo["email"],
                    name=idinfo.get("name"), picture=idinfo.get("picture"))
    except (KeyError, ValidationError):
        raise _unauthorized("Google token lacks a usable email") from None
    return AuthResponse(access_token=create_access_token(user), user=user)


@app.get("/api/user", response_model=User)
async def read_user(user: User = Depends(get_current_user)) -> User:
    return user


handler = Mangum(app, lifespan="off")
