"""Encoding tools: Base64 and URL encode/decode, HMAC of a text, and a JWT decoder (no verification)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, unquote

import jwt
from pydantic import BaseModel, Field

from vcore_app.tools import QuickTool, ToolFailed

JWT_WARNING = (
    "Decoded without verifying the signature: anyone can write a token that decodes like this. "
    "Never trust these claims without checking the signature with the issuer's key."
)


class EncodeDecode(QuickTool):
    name = "encode"
    title = "Base64 and URL encoding"
    description = "Encode or decode a text as Base64, URL-safe Base64 or URL percent-encoding."

    class Input(BaseModel):
        text: str = Field(max_length=1_000_000, description="The text to encode or decode")
        operation: Literal[
            "base64-encode", "base64-decode", "base64url-encode", "base64url-decode", "url-encode", "url-decode"
        ] = "base64-encode"

    def run(self, data: Any) -> Any:
        text, operation = data.text, data.operation
        if operation == "url-encode":
            return quote(text, safe="")
        if operation == "url-decode":
            return unquote(text)
        urlsafe = operation.startswith("base64url")
        if operation.endswith("encode"):
            encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode())
            return encoded.decode()
        raw = text.strip()
        try:
            if urlsafe:
                decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            else:
                decoded = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise ToolFailed("That is not valid Base64", field="text") from None
        return decoded.decode("utf-8", errors="replace")


class HmacTool(QuickTool):
    name = "hmac"
    title = "HMAC"
    description = "The HMAC of a text with a secret key (SHA-256, SHA-512, SHA-1), as hex and Base64."

    class Input(BaseModel):
        text: str = Field(max_length=1_000_000, description="The message")
        key: str = Field(min_length=1, max_length=10_000, description="The secret key (not stored or logged)")
        algorithm: Literal["sha256", "sha512", "sha1"] = "sha256"

    def run(self, data: Any) -> Any:
        digest = hmac.new(data.key.encode(), data.text.encode(), getattr(hashlib, data.algorithm)).digest()
        return {
            "algorithm": f"HMAC-{data.algorithm.upper()}",
            "hex": digest.hex(),
            "base64": base64.b64encode(digest).decode(),
        }


class JwtDecoder(QuickTool):
    name = "jwt"
    title = "JWT decoder"
    description = "Show the header and claims of a JSON Web Token. It does not verify the signature."
    template = "tools/jwt.html"

    class Input(BaseModel):
        token: str = Field(
            min_length=1, max_length=100_000, description="The token: three Base64URL parts joined by dots"
        )

    def run(self, data: Any) -> Any:
        token = data.token.strip().removeprefix("Bearer ").strip()
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise ToolFailed(f"Not a decodable JWT: {exc}", field="token") from None
        times = {
            name: datetime.fromtimestamp(claims[name], UTC).isoformat()
            for name in ("iat", "nbf", "exp")
            if isinstance(claims.get(name), (int, float))
        }
        expired = isinstance(claims.get("exp"), (int, float)) and claims["exp"] < datetime.now(UTC).timestamp()
        return {"warning": JWT_WARNING, "header": header, "claims": claims, "times": times, "expired": expired}
