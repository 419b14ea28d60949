"""What we sign, byte by byte, against the formats' published definitions; signatures made
here independently with ``cryptography`` verified by our code; and round trips of every
format through our registry and CNCF distribution 2.8.2 (which has no referrers API).

Sources are in ``shared/reference/SIGNING.md``: cosign ``SIGNATURE_SPEC.md`` and
``pkg/oci/static``, ``BUNDLE_SPEC.md``, ``sigstore_bundle.proto``, DSSE ``protocol.md``, the
notation signature specification and JWS envelope specification.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from fakeregistry import FakeRegistry, Image
from fakeregistry.client import RegistryClient
from fakeregistry.engine.pull import pull_sync
from fakeregistry.rules import mediatypes as mt
from fakeregistry.rules.digest import compute
from fakeregistry.testing.harness import ClientTarget
from fakeregistry.tools.builder import build_artifact, build_image, build_index
from fakeregistry.tools.seed import push_tree
from fakeregistry.trust import (
    CertificateChain,
    KeyPair,
    PolicyRejected,
    TrustError,
    bundle,
    cosign,
    generate_key,
    make_certificate_chain,
    sign_sync,
)
from fakeregistry.trust.keys import key_hint
from fakeregistry.trust.sign import SignFormat
from fakeregistry.trust.signatures import find_signatures
from fakeregistry.trust.verify import check_signatures
from tests import trust_helpers as th
from tests.distribution import Distribution, run_distribution

EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def spki_pem(pair: KeyPair) -> bytes:
    return pair.public_pem()


def der_verify(public: ec.EllipticCurvePublicKey, signature_b64: str, data: bytes) -> None:
    public.verify(base64.b64decode(signature_b64), data, ec.ECDSA(hashes.SHA256()))


def manifest(client_ref: str, *, accept: list[str] | None = None) -> Any:
    return th.with_client(lambda c: c.get_manifest(client_ref, accept=accept or [mt.OCI_MANIFEST]))


def blob(repo: str, digest: str) -> bytes:
    return th.with_client(lambda c: c.get_blob(th.at(repo), digest))


def referrer_documents(repo: str, digest: str) -> list[dict[str, Any]]:
    async def work(client: RegistryClient) -> list[dict[str, Any]]:
        out = []
        for descriptor in await client.referrers(th.at(repo), digest):
            fetched = await client.get_manifest(th.at(repo, digest=descriptor.digest))
            out.append(fetched.json())
        return out

    return th.with_client(work)


# -- cosign ---------------------------------------------------------------------------------


def test_cosign_payload_matches_real_cosign_bytes() -> None:
    """The payload of the real cosign signature in containers/image's fixture
    ``dir-img-cosign-valid`` is 261 bytes hashing to ``sha256:cf482371…``; ours for the same
    reference and digest are the same bytes."""
    payload = cosign.simple_signing_payload(
        "192.168.64.2:5000/cosign-signed-single-sample",
        "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00",
    )
    assert len(payload) == 261
    assert hashlib.sha256(payload).hexdigest() == (
        "cf482371b51a7633b3f02e29b87fc3f4a18b3f127af61cb114af5f2c04fcdd75"
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(b'{"critical":{}}', "missing field 'optional'", id="no-optional"),
        pytest.param(
            b'{"critical":{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":'
            b'"d"},"type":"cosign container image signature","extra":1},"optional":null}',
            "unexpected field 'extra'",
            id="unknown-critical-field",
        ),
        pytest.param(
            b'{"critical":{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":'
            b'"d"},"type":"something else"},"optional":null}',
            "Unrecognized signature type",
            id="unknown-type",
        ),
        pytest.param(
            b'{"critical":{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":'
            b'"d"},"type":"cosign container image signature"},"optional":{"timestamp":"x"}}',
            "timestamp is not an integer",
            id="string-timestamp",
        ),
        pytest.param(
            b'{"critical":{"identity":{"docker-reference":"a"},"identity":{},"image":{},'
            b'"type":"t"},"optional":null}',
            "duplicate key",
            id="duplicate-key",
        ),
    ],
)
def test_cosign_payload_parser_is_strict(payload: bytes, message: str) -> None:
    from fakeregistry.trust import InvalidSignature

    with pytest.raises(InvalidSignature, match=message):
        cosign.parse_payload(payload)


def test_cosign_legacy_layout(fake_registry: FakeRegistry) -> None:
    """The .sig tag: an OCI manifest, one simplesigning layer per signature with the DER
    signature in the annotation, config diff_ids listing the payloads."""
    image = fake_registry.push_image("app:1")
    first, second = generate_key(), generate_key()
    fake_registry.sign("app:1", key=first)
    fake_registry.sign("app:1", key=second, annotations={"env": "test"})
    repo = f"{fake_registry.host}/app"
    fetched = manifest(f"{repo}:{cosign.signature_tag(image.digest)}")
    assert fetched.media_type == mt.OCI_MANIFEST
    document = fetched.json()
    assert document["mediaType"] == mt.OCI_MANIFEST
    assert document["config"]["mediaType"] == mt.OCI_CONFIG
    assert "artifactType" not in document
    assert "subject" not in document
    layers = document["layers"]
    assert [layer["mediaType"] for layer in layers] == [cosign.SIMPLE_SIGNING] * 2
    config = json.loads(blob(repo, document["config"]["digest"]))
    assert config["rootfs"] == {"type": "layers", "diff_ids": [x["digest"] for x in layers]}
    for layer, pair, optional in ((layers[0], first, None), (layers[1], second, {"env": "test"})):
        payload = blob(repo, layer["digest"])
        assert json.loads(payload) == {
            "critical": {
                "identity": {"docker-reference": repo},
                "image": {"docker-manifest-digest": image.digest},
                "type": "cosign container image signature",
            },
            "optional": optional,
        }
        signature = layer["annotations"][cosign.SIGNATURE_ANNOTATION]
        assert base64.b64decode(signature)[0] == 0x30  # ASN.1 DER SEQUENCE
        der_verify(pair.public_key, signature, payload)


def test_cosign_referrer_layout(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1")
    fake_registry.sign("app:1", key=generate_key(), referrer=True)
    (document,) = referrer_documents(f"{fake_registry.host}/app", image.digest)
    assert document["artifactType"] == cosign.SIGNATURE_ARTIFACT_TYPE
    assert document["config"]["mediaType"] == cosign.SIGNATURE_ARTIFACT_TYPE
    assert document["subject"] == image.descriptor(with_platform=False)
    assert document["layers"][0]["mediaType"] == cosign.SIMPLE_SIGNING


def _push_signature_layer(
    registry: FakeRegistry, image: Image, payload: bytes, signature: str
) -> None:
    """A .sig manifest written here by hand, as the cosign spec describes it."""
    repo = f"{registry.host}/app"
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [str(compute(payload))]}})

    async def work(client: RegistryClient) -> None:
        config_digest = await client.push_blob(th.at(repo), config.encode())
        payload_digest = await client.push_blob(th.at(repo), payload)
        document = {
            "schemaVersion": 2,
            "mediaType": mt.OCI_MANIFEST,
            "config": {"mediaType": mt.OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [
                {
                    "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                    "digest": payload_digest,
                    "size": len(payload),
                    "annotations": {"dev.cosignproject.cosign/signature": signature},
                }
            ],
        }
        tag = "sha256-" + image.digest.split(":")[1] + ".sig"
        await client.put_manifest(
            th.at(repo, tag=tag), json.dumps(document, indent=2).encode(), mt.OCI_MANIFEST
        )

    th.with_client(work)


def test_independent_cosign_signature_verifies(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1")
    private = ec.generate_private_key(ec.SECP256R1())
    repo = f"{fake_registry.host}/app"
    payload = json.dumps(
        {
            "critical": {
                "identity": {"docker-reference": repo},
                "image": {"docker-manifest-digest": image.digest},
                "type": "cosign container image signature",
            },
            "optional": {"creator": "a test", "timestamp": 1700000000},
        },
        indent=1,
    ).encode()
    signature = base64.b64encode(private.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
    _push_signature_layer(fake_registry, image, payload, signature)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    policy = {
        "default": [
            {
                "type": "sigstoreSigned",
                "keyData": base64.b64encode(pem).decode(),
                "signedIdentity": {"type": "matchRepository"},
            }
        ]
    }
    result = fake_registry.pull("app:1", policy=policy)
    assert result.trust is not None
    assert result.trust.checks[0].holds


# -- cosign bundle -----------------------------------------------------------------------------


def test_bundle_layout(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1")
    pair = generate_key()
    fake_registry.sign("app:1", key=pair, format="cosign-bundle")
    repo = f"{fake_registry.host}/app"
    (document,) = referrer_documents(repo, image.digest)
    assert document["mediaType"] == mt.OCI_MANIFEST
    assert document["artifactType"] == bundle.BUNDLE_V03
    assert document["config"] == {
        "mediaType": mt.OCI_EMPTY,
        "digest": EMPTY_DIGEST,
        "size": 2,
        "artifactType": bundle.BUNDLE_V03,
    }
    assert document["subject"] == image.descriptor(with_platform=False)
    annotations = document["annotations"]
    assert annotations["dev.sigstore.bundle.content"] == "dsse-envelope"
    assert annotations["dev.sigstore.bundle.predicateType"] == "https://sigstore.dev/cosign/sign/v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", annotations[bundle.CREATED_ANNOTATION])
    (layer,) = document["layers"]
    assert layer["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    content = json.loads(blob(repo, layer["digest"]))
    assert content["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    der = pair.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert content["verificationMaterial"] == {
        "publicKey": {"hint": base64.b64encode(hashlib.sha256(der).digest()).decode()}
    }
    envelope = content["dsseEnvelope"]
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = base64.b64decode(envelope["payload"])
    assert json.loads(statement) == {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"digest": {"sha256": image.digest.split(":")[1]}}],
        "predicateType": "https://sigstore.dev/cosign/sign/v1",
        "predicate": {},
    }
    kind = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(statement), statement)
    der_verify(pair.public_key, envelope["signatures"][0]["sig"], pae)


def test_independent_bundle_verifies(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1")
    private = ec.generate_private_key(ec.SECP256R1())
    statement = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app", "digest": {"sha256": image.digest.split(":")[1]}}],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {},
        },
        indent=2,  # protojson's whitespace varies: the stored bytes are what counts
    ).encode()
    kind = b"application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(statement), statement)
    sig = base64.b64encode(private.sign(pae, ec.ECDSA(hashes.SHA256()))).decode()
    content = json.dumps(
        {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": "unused"}},
            "dsseEnvelope": {
                "payload": base64.b64encode(statement).decode(),
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{"sig": sig}],
            },
        }
    ).encode()
    fake_registry.push_artifact(
        "app",
        subject=image,
        artifact_type="application/vnd.dev.sigstore.bundle.v0.3+json",
        blobs=[content],
    )
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    policy = {"default": [{"type": "sigstoreSigned", "keyData": base64.b64encode(pem).decode()}]}
    result = fake_registry.pull("app:1", policy=policy)
    assert result.trust is not None
    assert result.trust.checks[0].signature.format == "cosign-bundle"
    assert result.trust.checks[0].holds


# -- notation ---------------------------------------------------------------------------------


def _b64url_decode(text: str) -> bytes:
    assert "=" not in text
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_notation_layout(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1")
    chain = make_certificate_chain(intermediate=True)
    fake_registry.sign("app:1", key=chain, format="notation")
    repo = f"{fake_registry.host}/app"
    (document,) = referrer_documents(repo, image.digest)
    assert document["artifactType"] == "application/vnd.cncf.notary.signature"
    assert document["config"] == {
        "mediaType": mt.OCI_EMPTY,
        "digest": EMPTY_DIGEST,
        "size": 2,
        "data": "e30=",
    }
    assert document["subject"] == image.descriptor(with_platform=False)
    (layer,) = document["layers"]
    assert layer["mediaType"] == "application/jose+json"
    annotations = document["annotations"]
    thumbprints = json.loads(annotations["io.cncf.notary.x509chain.thumbprint#S256"])
    assert thumbprints == [
        hashlib.sha256(c.public_bytes(serialization.Encoding.DER)).hexdigest()
        for c in chain.certificates
    ]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", annotations["org.opencontainers.image.created"]
    )
    envelope = json.loads(blob(repo, layer["digest"]))
    assert set(envelope) == {"payload", "protected", "header", "signature"}
    raw_header = _b64url_decode(envelope["protected"])
    header = json.loads(raw_header)
    assert list(header) == sorted(header)  # a Go map: keys sorted
    assert header["alg"] == "ES256"
    assert header["cty"] == "application/vnd.cncf.notary.payload.v1+json"
    assert header["crit"] == ["io.cncf.notary.signingScheme"]
    assert header["io.cncf.notary.signingScheme"] == "notary.x509"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", header["io.cncf.notary.signingTime"])
    assert json.loads(_b64url_decode(envelope["payload"])) == {
        "targetArtifact": image.descriptor(with_platform=False)
    }
    x5c = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in envelope["header"]["x5c"]]
    assert [c.fingerprint(hashes.SHA256()).hex() for c in x5c] == thumbprints
    assert x5c[-1].subject == x5c[-1].issuer  # the chain ends in the root
    signature = _b64url_decode(envelope["signature"])
    assert len(signature) == 64  # raw r||s, not DER
    leaf_key = x5c[0].public_key()
    assert isinstance(leaf_key, ec.EllipticCurvePublicKey)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    signed = f"{envelope['protected']}.{envelope['payload']}".encode()
    leaf_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))


def test_certificate_chain_helper() -> None:
    chain = make_certificate_chain(intermediate=True)
    leaf, middle, root = chain.certificates
    subject = {a.oid._name: a.value for a in leaf.subject}
    assert {"countryName", "stateOrProvinceName", "organizationName"} <= set(subject)
    for ca in (middle, root):
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical
        assert constraints.value.ca
        usage = ca.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical
        assert usage.value.key_cert_sign
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature
    assert not usage.value.key_cert_sign
    leaf.verify_directly_issued_by(middle)
    middle.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)


def test_independent_notation_signature_verifies(fake_registry: FakeRegistry) -> None:
    """A JWS envelope built here from the specification, pushed with oras-style packing."""
    image = fake_registry.push_image("app:1")
    chain: CertificateChain = make_certificate_chain()

    def b64url(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {
        "alg": "ES256",
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": "2024-01-02T03:04:05Z",
    }
    protected = b64url(json.dumps(header).encode())
    payload = b64url(json.dumps({"targetArtifact": image.descriptor(with_platform=False)}).encode())
    der = chain.key.sign(f"{protected}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(der)
    envelope = json.dumps(
        {
            "payload": payload,
            "protected": protected,
            "header": {
                "x5c": [
                    base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                    for c in chain.certificates
                ]
            },
            "signature": b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big")),
        }
    ).encode()
    artifact = build_artifact(
        "application/vnd.cncf.notary.signature",
        subject=image,
        blobs=[envelope],
        blob_media_type="application/jose+json",
    )
    th.with_client(lambda c: push_tree(ClientTarget(c, fake_registry.host), "app", None, artifact))
    policy = {
        "default": [
            {
                "type": "fakeregistry.notationSigned",
                "trustStoreData": [chain.root_pem().decode()],
                "trustedIdentities": ["x509.subject: C=US, ST=WA, O=fakeregistry"],
            }
        ]
    }
    result = fake_registry.pull("app:1", policy=policy)
    assert result.trust is not None
    assert [c.holds for c in result.trust.checks] == [True]


# -- round trips: our registry and CNCF distribution ------------------------------------------


@pytest.fixture(scope="module")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Distribution]:
    with run_distribution(tmp_path_factory.mktemp("distribution")) as running:
        yield running


FORMATS = [
    pytest.param("cosign", {}, "tag sha256-", id="cosign-tag"),
    pytest.param("cosign", {"referrer": True}, "referrer", id="cosign-oci-1-1"),
    pytest.param("cosign-bundle", {}, "referrer", id="cosign-bundle"),
    pytest.param("notation", {}, "referrer", id="notation"),
]


def _round_trip(host: str, repo: str, fmt: str, options: dict[str, Any]) -> list[str]:
    """Push a two-platform index, sign it recursively, then check every signature of every
    manifest with the key; returns the 'where' of each signature found."""

    index = build_index(["linux/amd64", "linux/arm64/v8"], seed=repo)
    chain = make_certificate_chain()

    async def work(client: RegistryClient) -> list[str]:
        await push_tree(ClientTarget(client, host), repo, "1", index)
        return []

    th.with_client(work)
    key: Any = chain if fmt == "notation" else chain.key
    result = sign_sync(
        f"{host}/{repo}:1", key, format=cast(SignFormat, fmt), recursive=True, **options
    )
    assert [s.digest for s in result.signed] == [index.digest, *(c.digest for c in index.children)]
    from fakeregistry.trust import NotationVerifier
    from fakeregistry.trust.keys import load_public_keys

    keys = load_public_keys(chain.key.public_key())
    verifier = NotationVerifier((chain.root,))
    wheres: list[str] = []

    async def check(client: RegistryClient) -> None:
        for digest in [index.digest, *(c.digest for c in index.children)]:
            fetched = await client.get_manifest(th.at(f"{host}/{repo}", digest=digest))
            checks = await check_signatures(
                client, th.at(f"{host}/{repo}"), fetched, keys=keys, notation=verifier
            )
            assert len(checks) == 1, checks
            assert checks[0].holds, checks[0].reason
            assert checks[0].bound == digest
            wheres.append(checks[0].signature.where)

    th.with_client(check)
    # And the simulated pull with the matching policy accepts the platform image.
    if fmt == "notation":
        requirement: Any = {
            "type": "fakeregistry.notationSigned",
            "trustStoreData": [chain.root_pem().decode()],
        }
    else:
        pem = KeyPair(chain.key).public_pem()
        requirement = {
            "type": "sigstoreSigned",
            "keyData": base64.b64encode(pem).decode(),
            "signedIdentity": {"type": "matchRepository"},
        }
    pulled = pull_sync(f"{host}/{repo}:1", host="linux/arm64/v8", policy={"default": [requirement]})
    assert pulled.manifest.digest == index.children[1].digest
    return wheres


@pytest.mark.parametrize(("fmt", "options", "where"), FORMATS)
def test_round_trip_our_registry(
    fake_registry: FakeRegistry, fmt: str, options: dict[str, Any], where: str
) -> None:
    wheres = _round_trip(fake_registry.host, "trip", fmt, options)
    assert all(w.startswith(where) for w in wheres)
    assert all("tag schema" not in w for w in wheres)


@pytest.mark.interop
@pytest.mark.parametrize(("fmt", "options", "where"), FORMATS)
def test_round_trip_distribution(
    distribution: Distribution, fmt: str, options: dict[str, Any], where: str
) -> None:
    """distribution 2.8.2 has no referrers API: the .sig tag works as is; referrer formats
    are listed in the referrers tag schema (``sha256-<hex>`` index) and found there."""
    repo = f"trip-{fmt}-{len(options)}"
    wheres = _round_trip(distribution.host, repo, fmt, options)
    assert all(w.startswith(where) for w in wheres)
    if where == "referrer":
        assert all("referrers tag schema sha256-" in w for w in wheres)


@pytest.mark.interop
def test_distribution_without_fallback_fails_clearly(distribution: Distribution) -> None:

    image = build_image("linux/amd64", seed="nofallback")
    th.with_client(lambda c: push_tree(ClientTarget(c, distribution.host), "nofb", "1", image))
    with pytest.raises(TrustError, match=r"has no referrers API .*answered 404"):
        sign_sync(
            f"{distribution.host}/nofb:1",
            make_certificate_chain(),
            format="notation",
            referrers_fallback=False,
        )
    # Nothing was pushed: no referrers tag schema index.
    tags = th.with_client(lambda c: c.list_tags(th.at(f"{distribution.host}/nofb")))
    assert tags == ["1"]


def test_find_signatures_skips_foreign_referrers(fake_registry: FakeRegistry) -> None:
    image = fake_registry.push_image("app:1")
    fake_registry.push_artifact("app", subject=image, artifact_type="application/spdx+json")
    found = th.with_client(lambda c: find_signatures(c, f"{fake_registry.host}/app", image.digest))
    assert found == []
    with pytest.raises(PolicyRejected, match="no signature exists"):
        fake_registry.pull(
            "app:1", policy={"default": [{"type": "sigstoreSigned", "keyData": _data()}]}
        )


def _data() -> str:
    return base64.b64encode(generate_key().public_pem()).decode()


def test_key_hint_is_sha256_of_spki() -> None:
    pair = generate_key()
    der = pair.public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key_hint(pair.public_key) == base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_keys_round_trip_through_files(tmp_path: Path) -> None:
    from fakeregistry.trust import load_private_key, load_public_keys

    pair = generate_key()
    private, public = pair.write(tmp_path)
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    loaded = load_private_key(private)
    assert load_public_keys(public)[0].public_numbers() == loaded.public_key().public_numbers()
