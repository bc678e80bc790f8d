"""A FastAPI service that trusts Keygate's access tokens.

The tutorials' ``get_current_user`` decoded a token it had signed itself with a
secret written in the source. Here the service holds no secret at all: it checks
RFC 9068 access tokens against the public keys Keygate publishes (its JWKS),
and answers exactly as Keygate does when it refuses one.

    KEYGATE_ISSUER=http://127.0.0.1:8000 /usr/bin/python3 -m uvicorn app:app --port 8001

Keygate must sign with an asymmetric key (JWT_ALGORITHM=EdDSA, ES256 or RS256).
"""

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Optional

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer

ISSUER = os.environ.get("KEYGATE_ISSUER", "http://127.0.0.1:8000")
AUDIENCE = os.environ.get("KEYGATE_AUDIENCE", "keygate")
# Clock skew allowed on exp/iat: at most 30 s (SPEC §11), never more.
LEEWAY = min(int(os.environ.get("KEYGATE_LEEWAY_SECONDS", "30")), 30)
TIMEOUT = 5  # seconds for any request to Keygate
# With Keygate's INTROSPECTION_SECRET the service follows its revocation feed (SPEC §11):
# logged-out sessions are refused within about a second instead of at the token's exp.
FEED_SECRET = os.environ.get("KEYGATE_INTROSPECTION_SECRET")
# Without a successful sync for this long, every token is refused with a 503 (fail closed).
FEED_FAIL_CLOSED_SECONDS = float(os.environ.get("KEYGATE_FEED_FAIL_CLOSED_SECONDS", "30"))
# Algorithms whose keys are public. A token saying HS256 or none is refused before any
# key is looked at: verifying HS256 with a published public key is the classic forgery.
ASYMMETRIC = {"EdDSA", "ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}

# Keygate's own answers (its SPEC §3 "Bearer failures"), so clients see one behaviour.
REALM = 'Bearer realm="keygate"'


def not_authenticated() -> HTTPException:
    return HTTPException(401, "Not authenticated", {"WWW-Authenticate": REALM})


def invalid_token() -> HTTPException:
    challenge = f'{REALM}, error="invalid_token"'
    return HTTPException(401, "Could not validate credentials", {"WWW-Authenticate": challenge})


def unavailable() -> HTTPException:
    """Keygate unreachable for keys: not the token's fault, so not a 401."""
    return HTTPException(503, "Service temporarily unavailable", {"Retry-After": "5"})


def discover(issuer: str) -> dict:
    """RFC 8414 metadata; its issuer must be exactly ours (§3.3), or its keys mean nothing."""
    url = issuer.rstrip("/") + "/.well-known/oauth-authorization-server"
    with urllib.request.urlopen(url, timeout=TIMEOUT) as res:
        metadata = json.load(res)
    if metadata.get("issuer") != issuer:
        raise RuntimeError(f"{url} names issuer {metadata.get('issuer')!r}, not {issuer!r}")
    if "jwks_uri" not in metadata:
        raise RuntimeError(f"{issuer} publishes no JWKS: set JWT_ALGORITHM=EdDSA/ES256/RS256")
    return metadata


class KeygateUnavailable(Exception):
    pass


class KeygateJWKClient(jwt.PyJWKClient):
    """PyJWKClient with a timeout, and at most one refetch per 30 s for unknown kids.

    PyJWKClient refetches the key set for every unknown ``kid``: without the cooldown,
    anyone could make this service hammer Keygate with made-up tokens.
    """

    COOLDOWN = 30

    def __init__(self, uri: str):
        super().__init__(uri, cache_jwk_set=True, lifespan=600)
        self._last_fetch = float("-inf")
        self._lock = threading.Lock()

    def fetch_data(self):
        try:
            with urllib.request.urlopen(self.uri, timeout=TIMEOUT) as res:
                data = json.load(res)
        except OSError as err:
            raise KeygateUnavailable(str(err)) from err
        self._last_fetch = time.monotonic()
        self.jwk_set_cache.put(data)
        return data

    def get_signing_key(self, kid: str):
        with self._lock:
            keys = self.get_signing_keys()
            key = self.match_kid(keys, kid)
            if key is None and time.monotonic() - self._last_fetch >= self.COOLDOWN:
                key = self.match_kid(self.get_signing_keys(refresh=True), kid)
        if key is None:
            raise jwt.PyJWKClientError(f"no published key {kid!r}")
        return key


class RevocationFeed:
    """Follows GET /api/v1/auth/revocations (long-poll) on a daemon thread.

    Each entry names a revoked session (sid; with ``keep_jti`` after a password change,
    every token of it but that one) or user (sub, covering tokens issued up to ``at``)
    and is kept until ``until``, when every token it covers has expired. A 410
    means Keygate cannot continue from our cursor: read every kept entry again.
    """

    def __init__(self, url: str, secret: str, fail_closed_after: float):
        self.url, self.secret, self.fail_closed_after = url, secret, fail_closed_after
        self.cursor: Optional[str] = None
        self.sids: dict = {}  # sid -> (until, keep_jti or None: the one token a password change kept)
        self.subs: dict = {}  # sub -> (until, at)
        self.last_sync = float("-inf")
        self.lock = threading.Lock()

    def _get(self, wait: int) -> dict:
        query = {"wait": str(wait), **({"after": self.cursor} if self.cursor else {})}
        req = urllib.request.Request(
            f"{self.url}?{urllib.parse.urlencode(query)}",
            headers={"Authorization": f"Bearer {self.secret}", "Accept": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=TIMEOUT + wait) as res:
            return json.load(res)

    def sync(self, wait: int = 0) -> int:
        try:
            page = self._get(wait)
        except urllib.error.HTTPError as err:
            if err.code != 410 or self.cursor is None:
                raise
            self.cursor = None  # start over: the kept entries are all that still matter
            page = self._get(0)
        now = time.time()
        with self.lock:
            for item in page["items"]:
                if "sid" in item:
                    old = self.sids.get(item["sid"])
                    keep = item.get("keep_jti")
                    # A token is spared only while every entry for the session spares the same one.
                    if old is not None and old[1] != keep:
                        keep = None
                    self.sids[item["sid"]] = (max(item["until"], old[0] if old else 0), keep)
                if "sub" in item:
                    old_until, old_at = self.subs.get(item["sub"], (0, 0))
                    self.subs[item["sub"]] = (max(item["until"], old_until), max(item["at"], old_at))
            self.cursor = page["cursor"]
            self.sids = {k: v for k, v in self.sids.items() if v[0] >= now}
            self.subs = {k: v for k, v in self.subs.items() if v[0] >= now}
            self.last_sync = time.monotonic()
        return len(page["items"])

    def start(self) -> None:
        while self.sync() > 0:  # catch up before serving
            pass
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        wait = int(min(25, self.fail_closed_after / 2))
        while True:
            try:
                self.sync(wait)
            except (OSError, ValueError, KeyError):
                time.sleep(1)  # unreachable: retry; check() fails closed past the bound

    def check(self, claims: dict) -> None:
        if time.monotonic() - self.last_sync > self.fail_closed_after:
            raise unavailable()
        with self.lock:
            session = self.sids.get(claims.get("sid"))
            sub = self.subs.get(claims["sub"])
            if (session and session[1] != claims.get("jti")) or (sub and claims["iat"] <= sub[1]):
                raise invalid_token()


@dataclass
class CurrentUser:
    id: str
    session_id: Optional[str]
    client_id: str
    scope: str


metadata = discover(ISSUER)
jwks = KeygateJWKClient(metadata["jwks_uri"])
feed = None
if FEED_SECRET:
    # Keygate serves the feed beside its introspection endpoint.
    feed_url = metadata["introspection_endpoint"].rsplit("/", 1)[0] + "/revocations"
    feed = RevocationFeed(feed_url, FEED_SECRET, FEED_FAIL_CLOSED_SECONDS)
    feed.start()
# For /docs: the Authorize button logs in at Keygate. auto_error=False so that a missing
# header gets Keygate's body and challenge rather than FastAPI's.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=metadata["token_endpoint"], auto_error=False)


def get_current_user(token: Optional[str] = Depends(oauth2_scheme)) -> CurrentUser:
    if token is None:  # no Authorization header, or not the Bearer scheme
        raise not_authenticated()
    try:
        header = jwt.get_unverified_header(token)
        # RFC 9068 §4: only an access token is accepted as one (not an ID token).
        if str(header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
            raise invalid_token()
        # A token never picks its own key (RFC 8725 §3.10).
        if any(h in header for h in ("jwk", "jku", "x5u", "x5c")) or header.get("alg") not in ASYMMETRIC:
            raise invalid_token()
        signing_key = jwks.get_signing_key_from_jwt(token)
        # Pin the algorithm to the one Keygate published for this key (PyJWT < 2.8 has no
        # public accessor for it).
        alg = signing_key._jwk_data.get("alg")
        if alg not in ASYMMETRIC:
            raise invalid_token()
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=[alg],
            audience=AUDIENCE,
            issuer=ISSUER,
            leeway=LEEWAY,
            options={"require": ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"]},
        )
    except KeygateUnavailable:
        raise unavailable()
    except (jwt.PyJWTError, ValueError):
        raise invalid_token()
    if feed is not None:
        feed.check(claims)
    return CurrentUser(
        id=claims["sub"],
        session_id=claims.get("sid"),
        client_id=claims["client_id"],
        scope=claims.get("scope", ""),
    )


def require_scope(needed: str):
    """A route's scope (SPEC §6): 403 naming it, as Keygate answers (RFC 6750 §3.1)."""

    def check(user: CurrentUser = Depends(get_current_user)) -> CurrentUser:
        if needed not in user.scope.split():
            challenge = f'{REALM}, error="insufficient_scope", scope="{needed}"'
            raise HTTPException(403, "Not enough permissions", {"WWW-Authenticate": challenge})
        return user

    return check


app = FastAPI(title="A resource server behind Keygate")


@app.get("/me")
def read_me(user: CurrentUser = Depends(get_current_user)):
    return {"sub": user.id, "sid": user.session_id, "client_id": user.client_id, "scope": user.scope}


@app.post("/posts")
def create_post(user: CurrentUser = Depends(require_scope("posts:write"))):
    return {"owner": user.id}
