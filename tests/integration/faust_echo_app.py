"""A minimal Faust app for the foundation test: upper-cases values from one topic to another.

Run as ``python -m tests.integration.faust_echo_app worker``; configured by environment.
"""

from __future__ import annotations

import os

import faust

app = faust.App(
    os.environ["ECHO_APP_ID"],
    broker=f"kafka://{os.environ['ECHO_BOOTSTRAP']}",
    datadir=os.environ["ECHO_DATADIR"],
    store="memory://",
    topic_partitions=1,
    web_enabled=False,
)
source = app.topic(os.environ["ECHO_SOURCE"], key_type=bytes, value_type=bytes, value_serializer="raw")
sink = app.topic(os.environ["ECHO_SINK"], key_type=bytes, value_type=bytes, value_serializer="raw")


@app.agent(source)
async def echo(stream: faust.StreamT[bytes]) -> None:
    async for key, value in stream.items():
        await sink.send(key=key, value=value.upper())


if __name__ == "__main__":
    app.main()
