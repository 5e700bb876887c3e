"""Waiting on what a test needs to be true, not on the clock: poll with a bound, and say how long it took.

A fixed sleep is either too short on a loaded runner (a flaky failure) or longer than needed everywhere;
polling the condition ends as soon as it holds, and the bound still fails a test whose condition never does.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TypeVar

import jwt

if TYPE_CHECKING:
    from collections.abc import Callable

    from support.stack import Stack

T = TypeVar("T")


def wait_until(
    probe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    within: float,
    every: float = 0.2,
) -> tuple[T, float]:
    """Call ``probe`` until ``done`` holds for its result or ``within`` seconds pass: (last result,
    seconds waited). The caller asserts on the result, so a timeout reads as the state it stopped in."""
    started = time.monotonic()
    while True:
        result = probe()
        waited = time.monotonic() - started
        if done(result) or waited > within:
            return result, waited
        time.sleep(every)


def wait_for(
    probe: Callable[[], int], wanted: set[int], *, within: float, every: float = 0.2
) -> tuple[int, float]:
    """``wait_until`` for an HTTP status: until ``probe`` answers one of ``wanted``."""
    return wait_until(probe, wanted.__contains__, within=within, every=every)


def wait_until_rechecked(
    stack: Stack, airflow_token: str, probe: Callable[[], int], *, within: float
) -> int:
    """Call ``probe`` (a request made with ``airflow_token``) until Airflow has asked the service about the
    token's person again, then once more: that status, which the service's answer decided. For a test that
    needs a session to have been re-checked since it signed in (not just confirmed by the sign-in)."""
    path = f"/v1/admin/users/{jwt.decode(airflow_token, options={'verify_signature': False})['sub']}"
    asked_before = stack.proxy.requests_to(path)
    asked, waited = wait_until(
        lambda: (probe(), stack.proxy.requests_to(path))[1],
        lambda asked: asked > asked_before,
        within=within,
    )
    assert asked > asked_before, (
        f"Airflow did not ask the service about this session in {waited:.1f}s"
    )
    return probe()


def holds_throughout(
    probe: Callable[[], T], ok: Callable[[T], bool], *, seconds: float, every: float = 0.2
) -> tuple[T, bool]:
    """Call ``probe`` for ``seconds``, stopping at the first result ``ok`` refuses: (last result, whether
    ``ok`` held throughout). For a state that must NOT change while time passes (nothing to wait for)."""
    started = time.monotonic()
    while True:
        result = probe()
        if not ok(result):
            return result, False
        if time.monotonic() - started > seconds:
            return result, True
        time.sleep(every)
