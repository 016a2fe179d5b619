"""An in-memory server speaking the Hugging Face Hub's HTTP protocol, for round trips through the real client.

It implements what `huggingface_hub` 2.4, `datasets` and `peft` call when publishing and loading:
whoami, repo create / settings, validate-yaml, preupload, NDJSON commit, the LFS batch API + PUT (the
legacy path the client takes with `HF_HUB_DISABLE_XET=1`), tree / paths-info, resolve (HEAD and GET with
Range, any revision: branch, tag or commit), refs, tags, branches, commits and model / dataset info.

State is a dict of repos, each a list of immutable commits (path -> blob) plus branch and tag refs, so a
tag keeps pointing at its commit while `main` moves on. Tokens map to (user, role): a read token gets
403 on writes, an unknown token 401, and private repos answer 404 to anyone outside their namespace,
as the Hub does. Every request is recorded (method, path, status; never headers) for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

LFS_EXTENSIONS = (".parquet", ".safetensors", ".bin", ".arrow", ".pt", ".model", ".zst")
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024
PREFIXES = {"model": "", "dataset": "datasets/", "space": "spaces/"}


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob (what the Hub reports as `oid` for regular files)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Blob:
    size: int
    oid: str  # git sha1 of the content (regular) or of the LFS pointer (lfs)
    lfs_sha256: str | None = None
    content: bytes | None = None  # regular files only; LFS content lives in the store


@dataclass
class Commit:
    oid: str
    parent: str | None
    title: str
    date: str
    files: dict[str, Blob]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    gated: Any = False
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    created_at: str = ""


class HttpError(Exception):
    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}


class HubState:
    """Repos, the LFS object store and the token table, guarded by one lock."""

    def __init__(self, tokens: dict[str, tuple[str, str]], orgs: dict[str, list[str]]) -> None:
        self.tokens = tokens  # token -> (user, "read" | "write")
        self.orgs = orgs  # org -> member users
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs: dict[str, bytes] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str, int]] = []
        self.fail_next: dict[str, int] = {}  # action ("commit", "preupload", ...) -> status, answered once
        self._counter = 0

    # -- identity -------------------------------------------------------------------------------
    def user(self, token: str | None) -> tuple[str, str] | None:
        if token is None:
            return None
        if token not in self.tokens:
            raise HttpError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def can_read(self, repo: Repo, who: tuple[str, str] | None) -> bool:
        if not repo.private:
            return True
        return who is not None and self._in_namespace(who[0], repo.repo_id.split("/")[0])

    def _in_namespace(self, user: str, namespace: str) -> bool:
        return user == namespace or user in self.orgs.get(namespace, [])

    def require_write(self, who: tuple[str, str] | None, namespace: str) -> None:
        if who is None:
            raise HttpError(401, "You must be authenticated to write")
        if who[1] != "write" or not self._in_namespace(who[0], namespace):
            raise HttpError(403, f"You don't have the rights to write in {namespace}")

    # -- repos ----------------------------------------------------------------------------------
    def get_repo(self, repo_type: str, repo_id: str, who: tuple[str, str] | None) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or not self.can_read(repo, who):
            raise HttpError(404, "Repository not found", "RepoNotFound")
        return repo

    def new_commit(self, repo: Repo, parent: str | None, title: str, files: dict[str, Blob]) -> Commit:
        self._counter += 1
        seed = (
            f"{repo.repo_id}:{parent}:{title}:{self._counter}:{sorted((p, b.oid) for p, b in files.items())}"
        )
        commit = Commit(
            oid=hashlib.sha1(seed.encode()).hexdigest(),
            parent=parent,
            title=title,
            date=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            files=files,
        )
        repo.commits[commit.oid] = commit
        return commit

    def resolve(self, repo: Repo, revision: str) -> Commit:
        revision = unquote(revision)
        for name in (revision, revision.removeprefix("refs/heads/"), revision.removeprefix("refs/tags/")):
            if name in repo.branches:
                return repo.commits[repo.branches[name]]
            if name in repo.tags:
                return repo.commits[repo.tags[name]]
        if revision in repo.commits:
            return repo.commits[revision]
        raise HttpError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def _entry(path: str, blob: Blob, commit: Commit, expand: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": blob.size, "path": path}
    if blob.lfs_sha256:
        item["lfs"] = {
            "oid": blob.lfs_sha256,
            "size": blob.size,
            "pointerSize": len(lfs_pointer(blob.lfs_sha256, blob.size)),
        }
    if expand:
        item["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": commit.date}
    return item


def _folder(path: str, commit: Commit, expand: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "directory",
        "oid": hashlib.sha1(f"{commit.oid}:{path}".encode()).hexdigest(),
        "path": path,
    }
    if expand:
        item["lastCommit"] = {"id": commit.oid, "title": commit.title, "date": commit.date}
    return item


def _listing(commit: Commit, base: str, recursive: bool, expand: bool) -> list[dict[str, Any]]:
    base = base.strip("/")
    prefix = f"{base}/" if base else ""
    if base and base not in {p for path in commit.files for p in _parents(path)}:
        if base in commit.files:
            return [_entry(base, commit.files[base], commit, expand)]
        raise HttpError(404, f"Entry not found: {base}", "EntryNotFound")
    out: list[dict[str, Any]] = []
    folders: set[str] = set()
    for path in sorted(commit.files):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        parts = rest.split("/")
        for i in range(1, len(parts)):
            folder = prefix + "/".join(parts[:i])
            if (recursive or i == 1) and folder not in folders:
                folders.add(folder)
                out.append(_folder(folder, commit, expand))
        if recursive or len(parts) == 1:
            out.append(_entry(path, commit.files[path], commit, expand))
    return out


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


class HubHandler(BaseHTTPRequestHandler):
    server: HubHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr logging
        pass

    # -- plumbing -------------------------------------------------------------------------------
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        ctype: str = "application/json",
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.server.state.requests.append((self.command, urlsplit(self.path).path, status))

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _who(self) -> tuple[str, str] | None:
        auth = self.headers.get("Authorization") or ""
        token = auth[7:] if auth.lower().startswith("bearer ") else None
        return self.server.state.user(token)

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        segments = [unquote(s) for s in url.path.strip("/").split("/")]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            with self.server.state.lock:
                self._route(segments, query)
        except HttpError as err:
            headers = {"X-Error-Message": err.message, **err.headers}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._json(err.status, {"error": err.message}, headers)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _dispatch

    # -- routing --------------------------------------------------------------------------------
    def _route(self, seg: list[str], query: dict[str, str]) -> None:
        m = self.command
        if seg[:2] == ["api", "whoami-v2"]:
            return self._whoami()
        if seg[:3] == ["api", "repos", "create"] and m == "POST":
            return self._create_repo()
        if seg[:2] == ["api", "validate-yaml"] and m == "POST":
            return self._validate_yaml()
        if seg and seg[0] == "lfs-objects" and m == "PUT":
            return self._lfs_put(seg[1])
        if len(seg) >= 4 and seg[0] == "api" and seg[1] in ("models", "datasets", "spaces"):
            repo_type = seg[1][:-1]
            repo_id = f"{seg[2]}/{seg[3]}"
            return self._api_repo(repo_type, repo_id, seg[4:], query)
        # /{prefix}{ns}/{name}.git/info/lfs/objects/batch  and  /{prefix}{ns}/{name}/resolve/{rev}/{path}
        repo_type = "model"
        if seg and seg[0] in ("datasets", "spaces"):
            repo_type, seg = seg[0][:-1], seg[1:]
        if len(seg) >= 6 and seg[1].endswith(".git") and seg[2:6] == ["info", "lfs", "objects", "batch"]:
            return self._lfs_batch(repo_type, f"{seg[0]}/{seg[1][:-4]}")
        if len(seg) >= 5 and seg[2] == "resolve":
            return self._resolve(repo_type, f"{seg[0]}/{seg[1]}", seg[3], "/".join(seg[4:]))
        raise HttpError(404, f"No route for {self.command} {'/'.join(seg)}")

    def _api_repo(self, repo_type: str, repo_id: str, rest: list[str], query: dict[str, str]) -> None:
        state, who = self.server.state, self._who()
        m = self.command
        if not rest or rest[0] == "revision":
            repo = state.get_repo(repo_type, repo_id, who)
            return self._info(repo, rest[1] if rest else "main")
        action = rest[0]
        repo = state.get_repo(repo_type, repo_id, who)
        if action in state.fail_next:  # an injected failure: the request is consumed, nothing is applied
            self._body()
            raise HttpError(state.fail_next.pop(action), f"injected failure of {action}")
        if action == "settings" and m == "PUT":
            state.require_write(who, repo_id.split("/")[0])
            body = json.loads(self._body() or b"{}")
            if "gated" in body:
                repo.gated = body["gated"]
            if "private" in body:
                repo.private = bool(body["private"])
            return self._json(200, {})
        if action == "preupload" and m == "POST":
            state.require_write(who, repo_id.split("/")[0])
            return self._preupload(repo, rest[1])
        if action == "commit" and m == "POST":
            state.require_write(who, repo_id.split("/")[0])
            return self._commit(repo, rest[1])
        if action == "refs" and m == "GET":
            return self._json(200, self._refs(repo))
        if action == "tag" and m == "POST":
            state.require_write(who, repo_id.split("/")[0])
            tag = json.loads(self._body())["tag"]
            commit = state.resolve(repo, rest[1])
            if tag in repo.tags:
                raise HttpError(409, f"Tag {tag} already exists")
            repo.tags[tag] = commit.oid
            return self._json(200, {})
        if action == "tag" and m == "DELETE":
            state.require_write(who, repo_id.split("/")[0])
            if repo.tags.pop(rest[1], None) is None:
                raise HttpError(404, f"Tag {rest[1]} not found", "RevisionNotFound")
            return self._json(200, {})
        if action == "branch" and m == "POST":
            state.require_write(who, repo_id.split("/")[0])
            body = json.loads(self._body() or b"{}")
            if rest[1] in repo.branches:
                raise HttpError(409, f"Branch {rest[1]} already exists")
            repo.branches[rest[1]] = state.resolve(repo, body.get("startingPoint") or "main").oid
            return self._json(200, {})
        if action == "tree" and m == "GET":
            commit = state.resolve(repo, rest[1])
            recursive = query.get("recursive", "false").lower() in ("1", "true")
            expand = query.get("expand", "false").lower() in ("1", "true")
            return self._json(200, _listing(commit, "/".join(rest[2:]), recursive, expand))
        if action == "paths-info" and m == "POST":
            commit = state.resolve(repo, rest[1])
            form = parse_qs(self._body().decode())
            expand = form.get("expand", ["False"])[-1].lower() in ("1", "true")
            out = []
            for path in form.get("paths", []):
                path = path.strip("/")
                if path in commit.files:
                    out.append(_entry(path, commit.files[path], commit, expand))
                elif any(p.startswith(path + "/") for p in commit.files):
                    out.append(_folder(path, commit, expand))
            return self._json(200, out)
        if action == "commits" and m == "GET":
            commit: Commit | None = state.resolve(repo, rest[1])
            out = []
            while commit is not None:
                out.append(
                    {
                        "id": commit.oid,
                        "title": commit.title,
                        "message": "",
                        "authors": [],
                        "date": commit.date,
                    }
                )
                commit = repo.commits.get(commit.parent) if commit.parent else None
            return self._json(200, out)
        raise HttpError(404, f"No route for {m} api/{repo_type}s/{repo_id}/{'/'.join(rest)}")

    # -- endpoints ------------------------------------------------------------------------------
    def _whoami(self) -> None:
        who = self._who()
        if who is None:
            raise HttpError(401, "Invalid credentials in Authorization header")
        orgs = [
            {"name": org, "type": "org"}
            for org, members in self.server.state.orgs.items()
            if who[0] in members
        ]
        self._json(
            200,
            {
                "type": "user",
                "name": who[0],
                "fullname": who[0],
                "orgs": orgs,
                "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": who[1]}},
            },
        )

    def _create_repo(self) -> None:
        state, who = self.server.state, self._who()
        body = json.loads(self._body())
        repo_type = body.get("type") or "model"
        namespace = body.get("organization") or (who[0] if who else "")
        repo_id = f"{namespace}/{body['name']}"
        state.require_write(who, namespace)
        url = f"{self.server.endpoint}/{PREFIXES[repo_type]}{repo_id}"
        if (repo_type, repo_id) in state.repos:
            # Like the Hub: a 409 that still names the repo's URL (the client's exist_ok path reads it).
            return self._json(
                409,
                {"error": "You already created this repo", "url": url},
                {"X-Error-Message": "You already created this repo"},
            )
        private = body.get("visibility") == "private" or bool(body.get("private"))
        repo = Repo(
            repo_type,
            repo_id,
            private=private,
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        )
        attributes = b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
        initial = state.new_commit(
            repo,
            None,
            "initial commit",
            {".gitattributes": Blob(len(attributes), git_blob_sha1(attributes), None, attributes)},
        )
        repo.branches["main"] = initial.oid
        state.repos[(repo_type, repo_id)] = repo
        self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _validate_yaml(self) -> None:
        body = json.loads(self._body())
        content = body.get("content", "")
        if content.startswith("---"):
            block = content.split("---", 2)[1]
            try:
                data = yaml.safe_load(block) or {}
            except yaml.YAMLError as err:
                return self._send(
                    400, f"Invalid YAML in README.md metadata: {err}".encode(), ctype="text/plain"
                )
            if not isinstance(data, dict):
                return self._send(400, b"README.md metadata must be a mapping", ctype="text/plain")
            for config in data.get("configs") or []:
                if not isinstance(config, dict) or "config_name" not in config or "data_files" not in config:
                    return self._send(
                        400, b'"configs" entries need config_name and data_files', ctype="text/plain"
                    )
        self._json(200, {"errors": [], "warnings": []})

    def _preupload(self, repo: Repo, revision: str) -> None:
        commit = self.server.state.resolve(repo, revision)
        files = json.loads(self._body())["files"]
        out = []
        for f in files:
            lfs = (
                f["path"].endswith(LFS_EXTENSIONS)
                or f["size"] > LFS_SIZE_THRESHOLD
                or b"\0" in base64.b64decode(f["sample"])
            )
            existing = commit.files.get(f["path"])
            oid = None
            if existing is not None:
                oid = existing.lfs_sha256 if existing.lfs_sha256 else existing.oid
            out.append(
                {
                    "path": f["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        self._json(200, {"files": out, "commitOid": commit.oid})

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        state, who = self.server.state, self._who()
        state.get_repo(repo_type, repo_id, who)
        state.require_write(who, repo_id.split("/")[0])
        body = json.loads(self._body())
        objects = []
        for obj in body["objects"]:
            item: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
            if obj["oid"] not in state.lfs:
                item["actions"] = {
                    "upload": {"href": f"{self.server.endpoint}/lfs-objects/{obj['oid']}", "header": {}}
                }
            objects.append(item)
        self._send(
            200,
            json.dumps({"transfer": "basic", "objects": objects}).encode(),
            ctype="application/vnd.git-lfs+json",
        )

    def _lfs_put(self, oid: str) -> None:
        data = self._body()
        if hashlib.sha256(data).hexdigest() != oid:
            raise HttpError(400, "uploaded content does not match its sha256")
        self.server.state.lfs[oid] = data
        self._json(200, {})

    def _commit(self, repo: Repo, revision: str) -> None:
        state = self.server.state
        branch = unquote(revision)
        if branch not in repo.branches:
            raise HttpError(404, f"Branch {branch} not found", "RevisionNotFound")
        lines = [json.loads(line) for line in self._body().splitlines() if line.strip()]
        header = lines[0]["value"]
        parent = state.repos[(repo.repo_type, repo.repo_id)].commits[repo.branches[branch]]
        if header.get("parentCommit") and header["parentCommit"] != parent.oid:
            raise HttpError(412, "A commit has happened since parentCommit")
        files = dict(parent.files)
        for line in lines[1:]:
            key, value = line["key"], line["value"]
            if key == "file":
                content = base64.b64decode(value["content"])
                files[value["path"]] = Blob(len(content), git_blob_sha1(content), None, content)
            elif key == "lfsFile":
                oid = value["oid"]
                if oid not in state.lfs:
                    raise HttpError(422, f"LFS object {oid} for {value['path']} was never uploaded")
                size = len(state.lfs[oid])
                files[value["path"]] = Blob(size, git_blob_sha1(lfs_pointer(oid, size)), oid, None)
            elif key == "deletedFile":
                if files.pop(value["path"], None) is None:
                    raise HttpError(404, "A file with this name doesn't exist", "EntryNotFound")
            elif key == "deletedFolder":
                prefix = value["path"].rstrip("/") + "/"
                for path in [p for p in files if p.startswith(prefix)]:
                    del files[path]
            else:
                raise HttpError(400, f"unknown commit operation {key}")
        commit = state.new_commit(repo, parent.oid, header["summary"], files)
        repo.branches[branch] = commit.oid
        url = f"{self.server.endpoint}/{PREFIXES[repo.repo_type]}{repo.repo_id}/commit/{commit.oid}"
        self._json(200, {"commitUrl": url, "commitOid": commit.oid, "pullRequestUrl": None})

    def _refs(self, repo: Repo) -> dict[str, Any]:
        def ref(kind: str, name: str, oid: str) -> dict[str, str]:
            return {"name": name, "ref": f"refs/{kind}/{name}", "targetCommit": oid}

        return {
            "branches": [ref("heads", n, o) for n, o in repo.branches.items()],
            "converts": [],
            "tags": [ref("tags", n, o) for n, o in repo.tags.items()],
            "pullRequests": [],
        }

    def _info(self, repo: Repo, revision: str) -> None:
        commit = self.server.state.resolve(repo, revision)
        card: dict[str, Any] | None = None
        readme = commit.files.get("README.md")
        if readme is not None and readme.content and readme.content.startswith(b"---"):
            card = yaml.safe_load(readme.content.decode().split("---", 2)[1])
        siblings = []
        for path, blob in sorted(commit.files.items()):
            sib: dict[str, Any] = {"rfilename": path, "size": blob.size, "blobId": blob.oid}
            if blob.lfs_sha256:
                sib["lfs"] = {
                    "size": blob.size,
                    "sha256": blob.lfs_sha256,
                    "pointerSize": len(lfs_pointer(blob.lfs_sha256, blob.size)),
                }
            siblings.append(sib)
        self._json(
            200,
            {
                "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
                "id": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "sha": commit.oid,
                "private": repo.private,
                "gated": repo.gated,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": list((card or {}).get("tags") or []),
                "cardData": card,
                "siblings": siblings,
                "createdAt": repo.created_at,
                "lastModified": commit.date,
            },
        )

    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        state, who = self.server.state, self._who()
        repo = state.get_repo(repo_type, repo_id, who)
        commit = state.resolve(repo, revision)
        blob = commit.files.get(path)
        if blob is None:
            # As the Hub does: the commit in the 404 lets the client cache the file's absence (.no_exist),
            # which an offline run relies on (e.g. AutoTokenizer asking an adapter repo for config.json).
            raise HttpError(404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": commit.oid})
        data = state.lfs[blob.lfs_sha256] if blob.lfs_sha256 else blob.content or b""
        etag = blob.lfs_sha256 or blob.oid
        headers = {"ETag": f'"{etag}"', "X-Repo-Commit": commit.oid, "Accept-Ranges": "bytes"}
        if blob.lfs_sha256:
            headers["X-Linked-Etag"] = f'"{etag}"'
            headers["X-Linked-Size"] = str(blob.size)
        status = 200
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and self.command == "GET":
            start_s, _, end_s = rng[6:].partition("-")
            start = int(start_s or 0)
            end = int(end_s) if end_s else len(data) - 1
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data, status = data[start : end + 1], 206
        headers["Content-Length"] = str(len(data))
        self._send(status, data, headers, ctype="application/octet-stream")


class HubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: HubState) -> None:
        super().__init__(("127.0.0.1", 0), HubHandler)
        self.state = state
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"


class HubServer:
    """Start / stop a test Hub on a free port; `endpoint` goes into HF_ENDPOINT of the client process."""

    def __init__(
        self, tokens: dict[str, tuple[str, str]] | None = None, orgs: dict[str, list[str]] | None = None
    ) -> None:
        self.state = HubState(tokens or {}, orgs or {})
        self.httpd = HubHTTPServer(self.state)
        self.endpoint = self.httpd.endpoint
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def files(self, repo_type: str, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        """Every file of a revision with its bytes (LFS content resolved): the uploaded tree."""
        with self.state.lock:
            repo = self.state.repos[(repo_type, repo_id)]
            commit = self.state.resolve(repo, quote(revision, safe=""))
            return {
                p: (self.state.lfs[b.lfs_sha256] if b.lfs_sha256 else b.content or b"")
                for p, b in commit.files.items()
            }
