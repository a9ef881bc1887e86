"""Parsing of one server-sent-event stream (``bench/openai_stream.py``), without a server."""

from __future__ import annotations

import pytest

from airadar.bench.openai_stream import RequestRecord, _BadEvent, _data_lines, _Stream


def test_data_lines_strip_crlf_and_skip_other_fields() -> None:
    """Only ``data:`` lines are kept, with the space and a CR around the payload removed."""
    block = b'event: x\r\ndata: {"a": 1}\r\n\r\n: comment\ndata:[DONE]'
    assert _data_lines(block) == [b'{"a": 1}', b"[DONE]"]


def test_stream_times_text_chunks_and_takes_usage() -> None:
    """TTFT from the send, ITL between text chunks, the server's usage, nothing after [DONE]."""
    rec = RequestRecord(index=0)
    st = _Stream("chat", rec, sent=1.0)
    st.event(b'{"choices": [{"delta": {"content": "a"}}]}', 1.5)
    st.event(b'{"choices": [{"delta": {}}]}', 1.6)  # no text: not a token
    st.event(b'{"choices": [{"delta": {"content": "b"}, "finish_reason": "length"}]}', 1.75)
    st.event(b'{"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}', 1.8)
    st.event(b"[DONE]", 1.9)
    st.event(b'{"choices": [{"delta": {"content": "late"}}]}', 2.0)
    assert rec.ttft_s == 0.5 and rec.itl_s == [0.25] and st.chunks == 2 and st.end == 1.9
    assert (rec.output_tokens, rec.input_tokens, rec.tokens_source) == (2, 3, "usage")
    assert rec.finish_reason == "length" and rec.text == ["a", "b"]


@pytest.mark.parametrize("data,message", [
    (b"{not json", "malformed event"), (b"[1, 2]", "malformed event"),
    (b"\xff\xfe", "malformed event"),
    (b'{"error": {"message": "overloaded"}}', "error event: overloaded"),
    (b'{"choices": [], "usage": {"completion_tokens": "many"}}', "malformed usage")])
def test_bad_events_end_the_request_with_a_reason(data: bytes, message: str) -> None:
    """Invalid JSON or UTF-8, a non-object, an error event or a bad usage: one clear reason."""
    with pytest.raises(_BadEvent, match=message):
        _Stream("completions", RequestRecord(index=0), sent=0.0).event(data, 1.0)
