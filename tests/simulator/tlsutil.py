# Copyright: Contributors to the textileio.textile collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throw-away certificates for the TLS tests: a CA, a server certificate for 127.0.0.1/localhost/::1
and a client certificate, all signed by that CA (test code only)."""

from __future__ import annotations

import datetime
import ipaddress
import os
import subprocess
from collections import namedtuple

TestCA = namedtuple("TestCA", "ca_cert ca_key server_cert server_key client_cert client_key")

SERVER_NAMES = ("localhost",)
SERVER_IPS = ("127.0.0.1", "::1")


def make_test_ca(directory: str, name: str = "textile-sim test CA") -> TestCA:
    """Write PEM files into ``directory`` and return their paths."""
    os.makedirs(directory, exist_ok=True)
    paths = TestCA(*(os.path.join(directory, base + ".pem") for base in TestCA._fields))
    try:
        import cryptography  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        _with_openssl(paths, name)
    else:
        _with_cryptography(paths, name)
    return paths


def _with_cryptography(paths: TestCA, name: str) -> None:
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def write_key(key, path):
        with open(path, "wb") as handle:
            handle.write(
                key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                )
            )

    def issue(subject_name, key, issuer_name, issuer_key, is_ca, extra):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        )
        if is_ca:
            builder = builder.add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
            )
        for extension in extra:
            builder = builder.add_extension(extension, critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    def write_cert(cert, path):
        with open(path, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    write_key(ca_key, paths.ca_key)
    write_cert(issue(name, ca_key, name, ca_key, True, []), paths.ca_cert)

    server_key = ec.generate_private_key(ec.SECP256R1())
    write_key(server_key, paths.server_key)
    san = x509.SubjectAlternativeName(
        [x509.DNSName(host) for host in SERVER_NAMES] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    )
    write_cert(
        issue(
            "localhost",
            server_key,
            name,
            ca_key,
            False,
            [san, x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])],
        ),
        paths.server_cert,
    )

    client_key = ec.generate_private_key(ec.SECP256R1())
    write_key(client_key, paths.client_key)
    write_cert(
        issue(
            "textile test client",
            client_key,
            name,
            ca_key,
            False,
            [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])],
        ),
        paths.client_cert,
    )


def _with_openssl(paths: TestCA, name: str) -> None:
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True)

    directory = os.path.dirname(paths.ca_cert)
    run(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=" + name,
        "-keyout",
        paths.ca_key,
        "-out",
        paths.ca_cert,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    san = ",".join(["DNS:%s" % host for host in SERVER_NAMES] + ["IP:%s" % ip for ip in SERVER_IPS])
    for cert, key, subject, extensions in (
        (
            paths.server_cert,
            paths.server_key,
            "localhost",
            "basicConstraints=critical,CA:FALSE\nsubjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san,
        ),
        (
            paths.client_cert,
            paths.client_key,
            "textile test client",
            "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n",
        ),
    ):
        request = key + ".csr"
        ext_file = key + ".ext"
        with open(ext_file, "w", encoding="ascii") as handle:
            handle.write(extensions)
        run(
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=" + subject,
            "-keyout",
            key,
            "-out",
            request,
        )
        run(
            "x509",
            "-req",
            "-in",
            request,
            "-CA",
            paths.ca_cert,
            "-CAkey",
            paths.ca_key,
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            ext_file,
            "-out",
            cert,
        )
        os.remove(request)
        os.remove(ext_file)
    serial = os.path.join(directory, "ca_cert.srl")
    if os.path.exists(serial):
        os.remove(serial)
