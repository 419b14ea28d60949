"""Conformance v1.1.1 as ``go test`` runs it: the four workflows of
``conformance/00_conformance_suite_test.go`` (``test01Pull``, ``test02Push``,
``test03ContentDiscovery``, ``test04ContentManagement``) one after the other against one
registry and one ``OCI_NAMESPACE``, so each workflow starts from what the earlier ones left.

The checks are the tests of ``test_conformance_pull.py``, ``..._push.py``, ``..._discovery.py``
and ``..._management.py``, called in their order; each workflow keeps its own closure variables,
as in Go. Run once per ``OCI_DELETE_MANIFEST_BEFORE_BLOBS`` teardown order.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from tests.conformance import (
    test_conformance_discovery,
    test_conformance_management,
    test_conformance_pull,
    test_conformance_push,
    v111,
)
from tests.conformance.v111 import Suite

WORKFLOWS: list[tuple[str, ModuleType, dict[str, Any]]] = [
    ("Pull", test_conformance_pull, {}),
    ("Push", test_conformance_push, {}),
    ("Content Discovery", test_conformance_discovery, test_conformance_discovery.INITIAL_VARS),
    ("Content Management", test_conformance_management, test_conformance_management.INITIAL_VARS),
]

Check = Callable[[Suite], None]


def _checks(module: ModuleType) -> Iterator[tuple[str, Check]]:
    """The module's tests in source order, parametrized ones expanded."""
    functions = [
        value
        for name, value in vars(module).items()
        if name.startswith("test_") and inspect.isfunction(value)
    ]
    for function in functions:
        marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
        if not marks:
            yield function.__name__, function
            continue
        argname, values = marks[0].args[:2]
        ids = marks[0].kwargs.get("ids") or [str(v) for v in values]
        for value, id_ in zip(values, ids, strict=True):
            yield f"{function.__name__}[{id_}]", functools.partial(function, **{argname: value})


STEPS = [
    (workflow, name, check) for workflow, module, _ in WORKFLOWS for name, check in _checks(module)
]


@pytest.fixture(scope="module", params=v111.SUITE_PARAMS, ids=v111.SUITE_IDS)
def suites(request: pytest.FixtureRequest) -> Iterator[dict[str, Suite]]:
    """One registry, client and data set; one closure-variable scope per workflow."""
    with v111.start_suite(*request.param) as shared:
        yield {
            workflow: Suite(
                server=shared.server,
                client=shared.client,
                data=shared.data,
                settings=shared.settings,
                vars=dict(initial),
            )
            for workflow, _, initial in WORKFLOWS
        }


@pytest.mark.parametrize(
    ("workflow", "check"),
    [(workflow, check) for workflow, _, check in STEPS],
    ids=[f"{workflow}/{name}" for workflow, name, _ in STEPS],
)
def test_workflow_check(suites: dict[str, Suite], workflow: str, check: Check) -> None:
    """One ``g.Specify`` of the v1.1.1 suite, in the order of a full ``go test`` run; its Go
    file and text are in the docstring of the test it calls (see the test id)."""
    suite = suites[workflow]
    if workflow == "Content Discovery":
        suite.vars.setdefault("tagList", [])
    check(suite)
