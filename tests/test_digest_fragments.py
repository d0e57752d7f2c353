"""The ``once`` tag of the digest templates renders a part once per key and reuses it."""

from __future__ import annotations

from typing import Any

from naebu.alerts.templating import environment, html_environment

TEMPLATE = """\
{% for a in alerts %}
{{ loop.index }}. {{ a["title"] }}
{% if not a["mine"] %}
   for: {{ a["role"] }}
{% endif %}
{% once fragments, "details", a["id"] %}
   record: {{ count(a) }}
{% for line in a["lines"] %}
     - {{ line }}
{% endfor %}
{% endonce %}

{% endfor %}
"""


def _render(
    fragments: dict[Any, Any] | None, html: bool = False, template: str = TEMPLATE
) -> tuple[str, list[int]]:
    calls: list[int] = []

    def count(a: dict[str, Any]) -> str:
        calls.append(a["id"])
        return f"#{a['id']} <{a['title']}>"

    env = html_environment() if html else environment()
    alerts = [
        {"id": n % 3, "title": f"t{n % 3}", "mine": n % 2 == 0, "role": "audit", "lines": ["a&b"]}
        for n in range(6)
    ]
    context = {"alerts": alerts, "fragments": fragments, "count": count}
    return env.from_string(template).render(context), calls


def test_a_part_is_rendered_once_per_key_and_reused() -> None:
    cached, calls = _render({})
    plain, plain_calls = _render(None)
    assert cached == plain
    assert calls == [0, 1, 2] and plain_calls == [0, 1, 2, 0, 1, 2]
    # The tags stand on lines of their own: the output is as without them.
    without = TEMPLATE.replace('{% once fragments, "details", a["id"] %}\n', "")
    without = without.replace("{% endonce %}\n", "")
    assert "once" not in without
    assert _render(None, template=without)[0] == cached
    assert cached.startswith("1. t0\n   record: #0 <t0>\n     - a&b\n\n2. t1\n   for: audit\n")


def test_html_parts_are_escaped_once() -> None:
    cached, calls = _render({}, html=True)
    assert cached == _render(None, html=True)[0]
    assert "#0 &lt;t0&gt;" in cached and "a&amp;b" in cached and "&amp;amp;" not in cached
    assert calls == [0, 1, 2]
