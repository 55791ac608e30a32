"""Webhook target addresses (SSRF): what is refused without an admin's "allow private", what is allowed.

No network: IP literals and ``localhost`` resolve locally; other host names use a stand-in resolver.
"""

from __future__ import annotations

import pytest

from surveyhub.services import webhooks
from surveyhub.services.errors import Invalid


def resolving_to(*addresses):
    return lambda host, port: list(addresses)


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://127.8.9.10/hook", "https://10.1.2.3/hook", "https://172.16.0.1/hook",
    "https://192.168.1.20/hook", "https://169.254.169.254/latest/meta-data/", "https://[::1]/hook",
    "https://[fe80::1]/hook", "https://[fd00::5]/hook", "https://0.0.0.0/hook", "https://224.0.0.1/hook",
    "https://240.0.0.1/hook", "https://100.64.0.7/hook", "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:169.254.169.254]/hook", "https://[64:ff9b::a00:1]/hook", "https://localhost/hook",
    "https://localhost:8443/hook",
])
def test_private_loopback_link_local_and_reserved_addresses_are_refused(url):
    with pytest.raises(Invalid) as refused:
        webhooks.check_url(url, allow_private=False)
    assert "private" in refused.value.msgid or "link-local" in refused.value.msgid
    if any(never in url for never in ("169.254.", "fe80::", "0.0.0.0", "224.0.0.1")):
        # never, not even on an own network that is allowed: the cloud metadata service lives there
        with pytest.raises(Invalid) as refused:
            webhooks.check_url(url, allow_private=True)
        assert "never sends" in refused.value.msgid
    else:  # an admin can allow it on purpose (an on-premises system), where the operator permits that
        assert webhooks.check_url(url, allow_private=True).addresses


def test_without_the_operators_permission_a_refusal_offers_no_tick():
    with pytest.raises(Invalid) as refused:
        webhooks.check_url("https://10.0.0.8/hook", allow_private=False, may_allow=False)
    assert "only sends to public addresses" in refused.value.msgid and "below" not in refused.value.msgid
    with pytest.raises(Invalid) as refused:
        webhooks.check_url("http://93.184.215.14/hook", allow_private=False, may_allow=False)
    assert refused.value.msgid == "Use https://."


def test_a_name_that_resolves_to_a_private_address_is_refused_even_among_public_ones():
    with pytest.raises(Invalid):
        webhooks.check_url("https://crm.example.org/hook", allow_private=False,
                           resolve=resolving_to("93.184.215.14", "10.0.0.8"))


def test_a_public_address_is_allowed_and_kept_for_the_connection():
    target = webhooks.check_url("https://93.184.215.14/hooks/in?x=1", allow_private=False)
    assert (target.scheme, target.host, target.port, target.path, target.addresses) == \
        ("https", "93.184.215.14", 443, "/hooks/in?x=1", ("93.184.215.14",))
    target = webhooks.check_url("https://crm.example.org:8443/in", allow_private=False,
                                resolve=resolving_to("2606:2800:220:1::1"))
    assert (target.host, target.port, target.addresses) == ("crm.example.org", 8443, ("2606:2800:220:1::1",))


@pytest.mark.parametrize("url, words", [
    ("http://93.184.215.14/hook", "https"),
    ("ftp://93.184.215.14/hook", "https://"),
    ("https://user:pass@93.184.215.14/hook", "password"),
    ("https://user@93.184.215.14/hook", "password"),
    ("javascript:alert(1)", "https://"),
    ("", "https://"),
    ("https://93.184.215.14:99999/", "valid"),
])
def test_only_https_without_credentials(url, words):
    with pytest.raises(Invalid) as refused:
        webhooks.check_url(url, allow_private=False)
    assert words in refused.value.msgid


def test_http_is_allowed_only_with_allow_private():
    assert webhooks.check_url("http://192.168.1.5:8080/in", allow_private=True).port == 8080


def test_a_name_that_cannot_be_found_is_refused():
    def nowhere(host, port):
        raise Invalid("The address %(host)s could not be found.", host=host)
    with pytest.raises(Invalid):
        webhooks.check_url("https://nowhere.invalid/", allow_private=False, resolve=nowhere)


def test_signature_matches_the_standard_webhooks_example():
    # The worked example of the Standard Webhooks specification (and its reference libraries' tests).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    assert webhooks.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
