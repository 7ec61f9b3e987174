"""Wire models every service shares: admin-issued agent tokens, plain messages and the 4xx body."""

from pydantic import BaseModel, ConfigDict, Field


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class TokenIssued(BaseModel):
    agent: str
    token: str


class Message(BaseModel):
    message: str


class Problem(BaseModel):
    """Every 4xx body."""

    detail: str
