"""TLS: the throwaway CA and certificate, your own certificate, the servers' ``ca_path`` and
client ``ssl_context``, and ``serve --tls`` with and without auth."""

from __future__ import annotations

import base64
import gc
import ipaddress
import re
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest
import trustme
from cryptography import x509

from fakeregistry import AsyncRegistryServer, RegistryServer
from fakeregistry.registry.auth import AuthConfig, Users
from fakeregistry.registry.tls import CA_FILE_NAME, generate_tls, load_tls


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_generate_tls_writes_only_the_ca(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "certs"
    tls = generate_tls(folder)
    assert tls.ca_path == folder / CA_FILE_NAME
    # Only ca.crt: a key file without its .cert would break `skopeo --cert-dir`.
    assert [path.name for path in folder.iterdir()] == [CA_FILE_NAME]
    ca = x509.load_pem_x509_certificate(tls.ca_path.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca


def test_server_certificate_names(tmp_path: Path) -> None:
    tls = generate_tls(tmp_path)
    with (
        RegistryServer(tls=tls) as registry,
        socket.create_connection(("127.0.0.1", registry.port)) as raw,
        tls.client_context.wrap_socket(raw, server_hostname="localhost") as conn,
    ):
        der = conn.getpeercert(binary_form=True)
    assert der is not None
    names = x509.load_der_x509_certificate(der).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert names.value.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(names.value.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }


def test_generate_tls_defaults_to_a_temporary_directory() -> None:
    tls = generate_tls()
    try:
        assert tls.ca_path.is_file()
        assert tls.ca_path.parent.name.startswith("fakeregistry-tls-")
    finally:
        tls.ca_path.unlink()
        tls.ca_path.parent.rmdir()


@pytest.fixture
def tls_registry(tmp_path: Path) -> Iterator[RegistryServer]:
    with RegistryServer(tls=True, tls_dir=tmp_path / "certs") as registry:
        yield registry


def test_registry_server_tls(tls_registry: RegistryServer, tmp_path: Path) -> None:
    assert tls_registry.url.startswith("https://127.0.0.1:")
    assert tls_registry.ca_path == tmp_path / "certs" / CA_FILE_NAME
    assert tls_registry.ssl_context is not None
    with httpx.Client(verify=tls_registry.ssl_context) as client:
        response = client.get(tls_registry.url + "/v2/")
    assert response.status_code == 200
    assert response.json() == {}
    # The CA file is all another client needs, and localhost is in the certificate too.
    context = ssl.create_default_context(cafile=str(tls_registry.ca_path))
    with httpx.Client(verify=context) as client:
        response = client.get(f"https://localhost:{tls_registry.port}/v2/")
    assert response.status_code == 200


def test_untrusted_client_is_refused(tls_registry: RegistryServer) -> None:
    with (
        httpx.Client(verify=ssl.create_default_context()) as client,
        pytest.raises(httpx.ConnectError),
    ):
        client.get(tls_registry.url + "/v2/")
    # Plain HTTP to the TLS port gets no registry answer.
    with httpx.Client() as client, pytest.raises(httpx.HTTPError):
        client.get(f"http://127.0.0.1:{tls_registry.port}/v2/")


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_loopback(tmp_path: Path) -> None:
    with RegistryServer(host="::1", tls=True, tls_dir=tmp_path) as registry:
        assert registry.url.startswith("https://[::1]:")
        assert registry.ssl_context is not None
        with httpx.Client(verify=registry.ssl_context) as client:
            assert client.get(registry.url + "/v2/").status_code == 200


def test_temporary_ca_directory_is_removed_with_the_server() -> None:
    registry = RegistryServer(tls=True)
    assert registry.ca_path is not None
    folder = registry.ca_path.parent
    with registry:
        assert folder.is_dir()
    del registry
    gc.collect()
    assert not folder.exists()


def test_own_certificate(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    cert, key, ca_file = tmp_path / "server.pem", tmp_path / "server.key", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(ca_file))
    for tls in (load_tls(cert, key, ca_file), load_tls(cert, key)):
        # Without a CA, clients trust the server certificate itself.
        with RegistryServer(tls=tls) as registry:
            assert registry.ca_path == tls.ca_path
            assert registry.ssl_context is tls.client_context
            with httpx.Client(verify=tls.client_context) as client:
                assert client.get(registry.url + "/v2/").status_code == 200


def test_bare_server_ssl_context_still_works(tmp_path: Path) -> None:
    """The older ``ssl_context=`` argument: a server-side context; clients get nothing."""
    tls = generate_tls(tmp_path)
    with RegistryServer(ssl_context=tls.server_context) as registry:
        assert registry.url.startswith("https://")
        assert registry.ssl_context is None
        assert registry.ca_path is None
        with httpx.Client(verify=tls.client_context) as client:
            assert client.get(registry.url + "/v2/").status_code == 200


def test_tls_arguments_conflict(tmp_path: Path) -> None:
    tls = generate_tls(tmp_path)
    with pytest.raises(ValueError, match="not both"):
        RegistryServer(ssl_context=tls.server_context, tls=tls)
    with pytest.raises(ValueError, match="tls_dir needs tls"):
        RegistryServer(tls_dir=tmp_path)


async def test_async_server_tls_with_token_auth(tmp_path: Path) -> None:
    auth = AuthConfig(mode="token", users=Users({"u": "p"}))
    async with (
        AsyncRegistryServer(tls=True, tls_dir=tmp_path, auth=auth) as registry,
        aiohttp.ClientSession() as session,
    ):
        assert registry.ssl_context is not None
        async with session.get(registry.url + "/v2/", ssl=registry.ssl_context) as response:
            assert response.status == 401
            challenge = response.headers["WWW-Authenticate"]
        assert challenge == f'Bearer realm="{registry.url}/token",service="fakeregistry"'
        async with session.get(
            registry.url + "/token",
            ssl=registry.ssl_context,
            headers={"Authorization": "Basic " + base64.b64encode(b"u:p").decode()},
        ) as response:
            token = (await response.json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(
            registry.url + "/v2/", ssl=registry.ssl_context, headers=headers
        ) as response:
            assert response.status == 200


# -- fakeregistry serve -----------------------------------------------------------------------


def _serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "fakeregistry", "serve", "--port", "0", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    match = re.fullmatch(r"Serving on (https://127\.0\.0\.1:\d+/)\n", first)
    assert match, first + process.stderr.read() if process.stderr else first
    return process, match[1]


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    return stderr


def test_serve_tls_prints_the_ca(tmp_path: Path) -> None:
    process, url = _serve("--tls", "--tls-dir", str(tmp_path / "certs"))
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == f"CA certificate: {tmp_path / 'certs' / 'ca.crt'}\n"
        context = ssl.create_default_context(cafile=str(tmp_path / "certs" / "ca.crt"))
        response = httpx.get(url + "v2/", verify=context)
        assert response.status_code == 200
    finally:
        _stop(process)
    assert (tmp_path / "certs" / "ca.crt").is_file()  # a given directory is kept


def test_serve_tls_temporary_directory_is_removed() -> None:
    process, url = _serve("--tls")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("CA certificate: ")
        ca_path = Path(line.removeprefix("CA certificate: ").strip())
        context = ssl.create_default_context(cafile=str(ca_path))
        assert httpx.get(url + "v2/", verify=context).status_code == 200
    finally:
        _stop(process)
    assert not ca_path.parent.exists()


def test_serve_own_certificate_with_token_auth(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    process, url = _serve(
        "--tls-cert",
        str(tmp_path / "cert.pem"),
        "--tls-key",
        str(tmp_path / "key.pem"),
        "--auth",
        "token",
        "--user",
        "alice:pass:with:colons",
    )
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with httpx.Client(base_url=url, verify=context) as client:
            refused = client.get("v2/")
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"] == (
                f'Bearer realm="{url}token",service="fakeregistry"'
            )
            answer = client.get("token", auth=("alice", "pass:with:colons"))
            assert answer.status_code == 200
            headers = {"Authorization": f"Bearer {answer.json()['token']}"}
            assert client.get("v2/", headers=headers).status_code == 200
    finally:
        _stop(process)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tls-dir", "x"), "--tls-dir needs --tls"),
        (("--tls-cert", "x"), "go together"),
        (("--tls-cert", "/nonexistent", "--tls-key", "/nonexistent"), "cannot load"),
        (("--user", "a:b"), "need --auth"),
        (("--anonymous-pull",), "need --auth"),
        (("--auth", "basic"), "--auth needs --user"),
        (("--auth", "token", "--user", "nocolon"), "NAME:PASSWORD"),
        (("--auth", "basic", "--htpasswd", "/nonexistent"), "/nonexistent"),
        (("--auth", "basic", "--user", "a:b", "--access", "/nonexistent"), "/nonexistent"),
    ],
)
def test_serve_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fakeregistry", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr
