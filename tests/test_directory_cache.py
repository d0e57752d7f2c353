"""The directory works out managers and the audit office once: what it hands out must still
be right after the routing changes, and a caller changing a returned list changes nothing."""

from __future__ import annotations

from servers import directory_with_two_auditors, employees_frame

from naebu.alerts.directory import Directory, Official
from naebu.alerts.routing_settings import RoutingConfig


def test_audit_office_follows_the_audit_department() -> None:
    directory = directory_with_two_auditors()
    extra = Official("E032", "우지호", "기획감사과", "주무관", "감사자", None, None, True)
    directory = Directory([*directory, extra], routing=RoutingConfig())
    assert [o.employee_id for o in directory.audit_office()] == ["E030", "E031", "E032"]
    directory.routing = RoutingConfig(audit_department="감사실")
    assert [o.employee_id for o in directory.audit_office()] == ["E030", "E031"]
    directory.routing = None
    assert [o.employee_id for o in directory.audit_office()] == ["E030", "E031", "E032"]


def test_returned_lists_are_the_callers_own() -> None:
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    office = directory.audit_office()
    office.clear()
    assert [o.employee_id for o in directory.audit_office()] == ["E030"]
    managers = directory.managers("재무과")
    managers.append(directory.get("E030"))  # type: ignore[arg-type]
    assert [o.employee_id for o in directory.managers("재무과")] == ["E010"]
    told = directory.recipients(["official", "manager", "audit"], "E001", "재무과")
    told["E001"].append("audit")
    assert directory.recipients(["official", "manager", "audit"], "E001", "재무과") == {
        "E001": ["official"],
        "E010": ["manager"],
        "E030": ["audit"],
    }


def test_someone_told_twice_over_is_told_once() -> None:
    directory = Directory.from_frame(employees_frame(), routing=RoutingConfig())
    # E002 has left: their supervisor E010 acts for them, and is 재무과's manager as well.
    assert directory.recipients(["manager", "official"], "E002", "재무과") == {
        "E010": ["manager", "official"],
    }
    assert [o.employee_id for o in directory] == sorted(directory.by_id)
