"""Run an UploadPlan against the Hub with the real `huggingface_hub` client, and explain failures.

Rerun safety: the repo is created with `exist_ok`; the client skips files whose content the Hub
already has (preupload `oid`) and LFS objects already stored (batch answers without actions), so a
rerun after an interruption uploads only what is missing and makes no empty commit; a tag that already
points at exactly this content is accepted as done, a tag pointing elsewhere is never moved.
Tokens come from the library's own sources (HF_TOKEN, the stored login) and are never printed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, constants
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    LocalTokenNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)

from publish.plan import UploadPlan

logger = logging.getLogger(__name__)

KEEP_REMOTE = {".gitattributes"}


class PublishError(RuntimeError):
    """A failure explained for the user (exit status 2, message on stderr, no traceback)."""


@dataclass(frozen=True)
class PublishResult:
    commit_url: str
    commit_oid: str
    tag: str | None
    changed: bool


@contextlib.contextmanager
def explain_hub_errors(repo_id: str, endpoint: str) -> Iterator[None]:
    """Turn client exceptions into one clear sentence each: auth, permission, not found, network."""
    try:
        yield
    except PublishError:
        raise
    except (LocalTokenNotFoundError, OfflineModeIsEnabled) as err:
        if isinstance(err, OfflineModeIsEnabled):
            raise PublishError(
                "HF_HUB_OFFLINE=1 is set: publishing needs the Hub; unset it, or use --dry-run."
            ) from None
        raise PublishError(
            "No Hugging Face token found: set HF_TOKEN or log in with `hf auth login`."
        ) from None
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else None
        server = (err.server_message or "").strip().splitlines()[0] if err.server_message else ""
        if status == 401:
            msg = (
                f"Authentication failed (401) at {endpoint}: the token (HF_TOKEN or the stored login) is missing, "
                "invalid or expired."
            )
        elif status == 403:
            msg = (
                f"Permission denied (403) for {repo_id}: the token cannot write to `{repo_id.split('/')[0]}` "
                "(use a token with write access to that user or organization)."
            )
        elif status == 404:
            msg = f"Not found (404): {repo_id} does not exist or is not visible with this token."
        else:
            msg = f"The Hub answered {status} for {repo_id}" + (f": {server}" if server else ".")
        raise PublishError(msg) from None
    except httpx2.TransportError as err:
        raise PublishError(
            f"Cannot reach the Hub at {endpoint} ({type(err).__name__}). Check the network or HF_ENDPOINT; "
            "nothing is half-published: rerun the same command when the Hub is reachable."
        ) from None


def check_base_model(api: HfApi, base_model: str) -> None:
    """The card's `base_model` must be a model on the Hub (gated counts: it exists); else PublishError."""
    try:
        api.model_info(base_model)
    except GatedRepoError:
        logger.info("base model %s is gated; it exists", base_model)
    except RepositoryNotFoundError:
        raise PublishError(
            f"Base model {base_model} is not a model on the Hub (or not visible with this token): pass "
            "--base-model with the Hub id of the model the adapter was trained from."
        ) from None


def _remote_matches(api: HfApi, plan: UploadPlan, revision: str) -> bool:
    """True when the files at `revision` are exactly the plan's files (content compared by hash)."""
    from huggingface_hub import RepoFile
    from huggingface_hub.utils import sha

    remote = {
        e.path: e
        for e in api.list_repo_tree(plan.repo_id, repo_type=plan.repo_type, revision=revision, recursive=True)
        if isinstance(e, RepoFile) and e.path not in KEEP_REMOTE
    }
    if set(remote) != {f.path_in_repo for f in plan.files}:
        return False
    for f in plan.files:
        entry = remote[f.path_in_repo]
        if entry.lfs is not None:
            if entry.lfs.sha256 != f.sha256():
                return False
        elif entry.blob_id != sha.git_hash(f.read()):
            return False
    return True


def execute(plan: UploadPlan, api: HfApi | None = None) -> PublishResult:
    """Create / configure the repo, upload the plan in one commit, tag it; return the commit URL."""
    api = api or HfApi()
    endpoint = api.endpoint or constants.ENDPOINT
    with explain_hub_errors(plan.repo_id, endpoint):
        user = api.whoami()["name"]
        logger.info("authenticated as %s", user)
        if plan.base_model:
            check_base_model(api, plan.base_model)
        url = api.create_repo(plan.repo_id, repo_type=plan.repo_type, private=plan.private, exist_ok=True)
        info = api.repo_info(plan.repo_id, repo_type=plan.repo_type)
        if bool(info.private) != plan.private:
            logger.warning(
                "%s already exists and is %s; its visibility is left unchanged",
                plan.repo_id,
                "private" if info.private else "public",
            )
        api.update_repo_settings(
            plan.repo_id, repo_type=plan.repo_type, gated=False if plan.gated == "off" else plan.gated
        )
        if plan.tag:
            refs = api.list_repo_refs(plan.repo_id, repo_type=plan.repo_type)
            existing = {t.name: t.target_commit for t in refs.tags}
            if plan.tag in existing:
                if _remote_matches(api, plan, plan.tag):
                    oid = existing[plan.tag]
                    logger.info("tag %s already holds exactly these files; nothing to do", plan.tag)
                    return PublishResult(f"{_repo_url(url)}/commit/{oid}", oid, plan.tag, changed=False)
                raise PublishError(
                    f"Tag {plan.tag} already exists on {plan.repo_id} with different files; refusing to move it. "
                    "Publish under a new version tag."
                )
        remote_files = set(api.list_repo_files(plan.repo_id, repo_type=plan.repo_type, revision="main"))
        local = {f.path_in_repo for f in plan.files}
        operations: list = [
            CommitOperationAdd(f.path_in_repo, f.content if f.content is not None else str(f.local_path))
            for f in plan.files
        ]
        operations += [CommitOperationDelete(p) for p in sorted(remote_files - local - KEEP_REMOTE)]
        commit = api.create_commit(
            plan.repo_id,
            operations,
            repo_type=plan.repo_type,
            commit_message=plan.commit_message,
            revision="main",
        )
        if plan.tag:
            api.create_tag(plan.repo_id, tag=plan.tag, revision=commit.oid, repo_type=plan.repo_type)
        return PublishResult(commit.commit_url, commit.oid, plan.tag, changed=True)


def _repo_url(url: str) -> str:
    return str(url).rstrip("/")
