# mypy: ignore-errors
"""Settings from the environment (and an optional .env file), via pydantic-settings."""

from pydantic_settings import BaseSettings, SettingsConfigDict

# What google.oauth2.id_token.verify_oauth2_token uses; overridable for offline runs.
GOOGLE_OAUTH2_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    GOOGLE_CLIENT_ID: str
    JWT_SECRET_KEY: str
    JWT_ALGORITHM: str = "HS256"
    JWT_EXPIRATION_HOURS: int = 24
    ALLOWED_ORIGINS: str = "http://localhost:3000"  # comma-separated
    GOOGLE_CERTS_URL: str = GOOGLE_OAUTH2_CERTS_URL

    def get_allowed_origins(self) -> list[str]:
        return [origin.strip() for origin in self.ALLOWED_ORIGINS.split(",") if origin.strip()]


settings = Settings()
