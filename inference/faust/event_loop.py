"""The worker's event loop: uvloop by default, chosen before Faust or any client makes one."""

from __future__ import annotations

import asyncio


def use_event_loop(name: str) -> None:
    """Make every event loop built after this call a uvloop one (``asyncio``: leave the default).

    Faust's worker, its consumer thread and the worker's aiokafka clients all get their loop
    from the policy, so this must run before any of them is built.
    """
    if name == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    elif name == "asyncio":
        asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    else:
        raise ValueError(f"unknown event loop {name!r}: uvloop or asyncio")
