"""The LLM side of the engine in its parts; `llm_extract.client.Client` assembles them.

- `endpoints`: a model string to a URL, a key and a provider; secrets kept out of messages,
- `transport`: one POST with retries, backoff, `Retry-After` and pacing,
- `modes`: the structured-output protocol (request head, parse, re-ask, fallback),
- `recorder`: lookup, call, store and log around each call,
- `instructor_adapter`: the one module that imports instructor's internals,
- `config` and `stats`: a run's call settings, and what an article's calls counted.
"""

__all__: list[str] = []
