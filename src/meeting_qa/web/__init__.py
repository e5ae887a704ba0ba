"""The staff web chat: answers with their evidence side by side.

`respond` and the other handlers in `meeting_qa.web.chat` are plain Python; gradio is imported only when
`build_app` or `serve` is called (never when `meeting_qa` is imported).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from meeting_qa.errors import ConfigError
from meeting_qa.web.chat import Turn, respond

if TYPE_CHECKING:
    from meeting_qa.config import Settings
    from meeting_qa.qa import Engine

__all__ = ["Turn", "build_app", "respond", "serve"]


def build_app(engine: Engine, settings: Settings) -> Any:
    """The gradio `Blocks` of the web chat (not launched)."""
    from meeting_qa.web.app import build_app as _build

    return _build(engine, settings)


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    insecure: bool = False,
    tls: tuple[Path, Path] | None = None,
) -> None:
    """Serve the web chat until interrupted; refuses a non-loopback address without a login and TLS
    (`tls`: key file and certificate file)."""
    from meeting_qa.web.access import check_bind

    if tls is not None:
        for f in tls:
            if not f.is_file():
                raise ConfigError(f"{f}: no such TLS key or certificate file", path=str(f))
    check_bind(host, settings.auth, insecure, tls=tls is not None)  # refuse before loading gradio and the model
    from meeting_qa.web.app import serve as _serve

    _serve(settings, host=host, port=port, insecure=insecure, tls=tls)
