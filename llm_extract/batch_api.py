"""The OpenAI files and batches endpoints: upload request files, follow batches, download.

`submit` uploads each file `batch prepare` wrote and starts one batch per file
(24 h window); `batch_status` reports a batch's state and counts; `download`
streams a finished batch's output and error files to disk for `batch collect`.
The openai client's errors become ours, with the key and any URL secrets
redacted.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai

from llm_extract.client import public_url, redact, url_secrets
from llm_extract.errors import ConfigError, TransportError
from llm_extract.settings import EndpointSettings

__all__ = ["BATCH_URL", "BatchInfo", "batch_status", "download", "submit"]

BATCH_URL = "/v1/chat/completions"


@dataclass
class BatchInfo:
    """A batch job as the files and batches endpoints report it."""

    id: str
    status: str
    input_file: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    total: int = 0
    completed: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, batch: Any, input_file: str | None = None) -> BatchInfo:
        counts = batch.request_counts
        errors = [
            f"line {e.line}: {e.message}" if e.line is not None else str(e.message)
            for e in ((batch.errors.data or []) if batch.errors else [])
        ]
        return cls(
            id=batch.id,
            status=batch.status,
            input_file=input_file or (batch.metadata or {}).get("llm_extract_file"),
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            total=counts.total if counts else 0,
            completed=counts.completed if counts else 0,
            failed=counts.failed if counts else 0,
            errors=errors,
        )


_FINISHED = ("completed", "expired", "cancelled")
"""States in which the output and error files hold every answer there will be."""


class _BatchAPI:
    """The openai client for the files and batches endpoints, with our errors."""

    def __init__(self, endpoint: EndpointSettings | None) -> None:
        endpoint = endpoint or EndpointSettings.from_env()
        key, url = endpoint.key, endpoint.url
        if not endpoint.configured:
            raise ConfigError(
                f"no endpoint for the Batch API: set ${endpoint.api_key_env} (the OpenAI key) "
                "or pass --base-url"
            )
        self.client = openai.OpenAI(api_key=key or "none", base_url=url, max_retries=3)
        self._secrets = [s for s in (key, *url_secrets(str(self.client.base_url))) if s]

    def __enter__(self) -> _BatchAPI:
        return self

    def __exit__(self, kind: Any, error: BaseException | None, tb: Any) -> None:
        self.client.close()
        if isinstance(error, openai.APIStatusError):
            reason = f"HTTP {error.status_code}: {self._redact(error.message)}"
            if error.status_code in (401, 403):
                raise ConfigError(f"the Batch API refused the key ({reason})") from None
            if error.status_code == 404:
                raise ConfigError(f"no such batch or file ({reason})") from None
            raise TransportError(f"the Batch API failed ({reason})") from None
        if isinstance(error, openai.APIConnectionError):
            raise TransportError(
                f"cannot reach {public_url(str(self.client.base_url))} ({self._redact(str(error))})"
            ) from None

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)


def submit(
    files: Sequence[str | Path],
    *,
    endpoint: EndpointSettings | None = None,
) -> list[BatchInfo]:
    """Upload each request file and start one batch per file (24 h window)."""
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"{path}: no such request file; write it with batch prepare")
    jobs = []
    with _BatchAPI(endpoint) as api:
        for path in paths:
            with path.open("rb") as fh:
                uploaded = api.client.files.create(file=(path.name, fh), purpose="batch")
            batch = api.client.batches.create(
                input_file_id=uploaded.id,
                endpoint=BATCH_URL,
                completion_window="24h",
                metadata={"llm_extract_file": path.name[:500]},
            )
            jobs.append(BatchInfo.of(batch, input_file=str(path)))
    return jobs


def batch_status(
    ids: Sequence[str], *, endpoint: EndpointSettings | None = None
) -> list[BatchInfo]:
    with _BatchAPI(endpoint) as api:
        return [BatchInfo.of(api.client.batches.retrieve(batch_id)) for batch_id in ids]


def download(
    batch_id: str,
    *,
    folder: str | Path,
    endpoint: EndpointSettings | None = None,
) -> list[Path]:
    """Save a finished batch's output and error files (streamed) and return their paths."""
    target = Path(folder)
    saved = []
    with _BatchAPI(endpoint) as api:
        info = BatchInfo.of(api.client.batches.retrieve(batch_id))
        if info.status == "failed":
            raise ConfigError(
                f"batch {batch_id} failed: {'; '.join(info.errors) or 'no reason given'}"
            )
        if info.status not in _FINISHED:
            raise ConfigError(
                f"batch {batch_id} is {info.status} ({info.completed + info.failed} of "
                f"{info.total} done); wait and check with: llm-extract batch status {batch_id}"
            )
        target.mkdir(parents=True, exist_ok=True)
        for kind, file_id in (("output", info.output_file_id), ("errors", info.error_file_id)):
            if not file_id:
                continue
            path = target / f"{batch_id}.{kind}.jsonl"
            tmp = path.with_name(f".{path.name}.tmp")
            with (
                api.client.files.with_streaming_response.content(file_id) as response,
                tmp.open("wb") as fh,
            ):
                for chunk in response.iter_bytes():
                    fh.write(chunk)
            os.replace(tmp, path)
            saved.append(path)
    return saved
