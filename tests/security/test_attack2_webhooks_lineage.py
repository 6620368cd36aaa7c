"""Two known gaps, attacked: a scenario webhook aimed at the cloud metadata service through a wide
allow-list, and an OpenLineage body nested too deeply for the JSON parser."""

from __future__ import annotations

from ipaddress import ip_address
from typing import Any

import pytest
from ninja.errors import HttpError

from modelworks.catalog.lineage.ingest import parse_event
from modelworks.scenarios.services.notify import NotificationError, check_webhook_url

METADATA = [
    "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://169.254.170.2/v2/credentials",  # ECS task credentials: link-local too
    "https://[fe80::1]/x",
    "https://[::ffff:169.254.169.254]/x",  # IPv4-mapped
    "https://[fd00:ec2::254]/latest/meta-data/",  # AWS over IPv6
    "https://100.100.100.200/latest/meta-data/",  # Alibaba Cloud
    "https://[2002:a9fe:a9fe::1]/x",  # 6to4 wrapping 169.254.169.254
    "https://[64:ff9b::a9fe:a9fe]/x",  # NAT64 wrapping 169.254.169.254
    "https://[2001:0:4136:e378:8000:63bf:5601:5601]/x",  # Teredo client 169.254.169.254 (obfuscated)
]


@pytest.mark.parametrize(
    ("allowlist", "url"),
    [
        *[(["0.0.0.0/0", "::/0"], url) for url in METADATA],
        (["169.254.169.254/32"], METADATA[0]),
        (["fd00:ec2::254/128"], METADATA[4]),
        (["100.100.100.200"], METADATA[5]),
    ],
)
@pytest.mark.parametrize("resolve", [False, True], ids=["when-saved", "when-sent"])
def test_metadata_and_link_local_addresses_are_refused_whatever_the_allow_list(
    settings: Any, allowlist: list[str], url: str, resolve: bool
) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = allowlist
    with pytest.raises(
        NotificationError,
        match=r"a link-local or cloud metadata address .*webhooks never go there, whatever the allow-list says",
    ):
        check_webhook_url(url, resolve=resolve)


def test_a_wide_allow_list_still_reaches_ordinary_addresses(settings: Any) -> None:
    settings.MODELWORKS_WEBHOOK_ALLOWLIST = ["0.0.0.0/0"]
    assert check_webhook_url("https://10.1.2.3:8443/hook", resolve=True)[2] == [ip_address("10.1.2.3")]


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
    ids=["lists", "objects"],
)
def test_a_lineage_body_nested_too_deeply_is_a_400_from_the_parser_itself(body: bytes) -> None:
    with pytest.raises(HttpError, match="nests objects or lists too deeply to be read") as caught:
        parse_event(body)
    assert caught.value.status_code == 400
