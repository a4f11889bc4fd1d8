"""What every Python scenario shares: the dev server's facts, loopback for *.localhost, the credential.

The Key Vault clients are built with their DEFAULT options (api-version, challenge check): only the
credential is told where the identity provider is, as CONTRACT section 4 says.
"""
import json
import os
import socket
import sys

from azure.identity import ClientSecretCredential
from azure.identity import _version as identity_version

_getaddrinfo = socket.getaddrinfo


def _loopback(host, *args, **kwargs):
    # The system resolver does not map *.localhost to loopback (Node's does not either): the
    # test's servers listen on 127.0.0.1, so those names are answered here, in this process only.
    if isinstance(host, str) and (host == "localhost" or host.endswith(".localhost")):
        host = "127.0.0.1"
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _loopback


def facts():
    with open(os.path.join(os.environ["COFFER_DEV_DATA_DIR"], "dev.json"), encoding="utf-8") as file:
        return json.load(file)


def credential(dev, client_id=None, client_secret=None):
    # azure-identity 1.13.0b2 (Debian 12) names the switch instance_discovery=False; 1.13.0 and
    # later disable_instance_discovery=True. Either way MSAL must not ask Microsoft about the authority.
    beta = "b" in identity_version.VERSION
    discovery = {"instance_discovery": False} if beta else {"disable_instance_discovery": True}
    return ClientSecretCredential(
        dev["tenantId"],
        client_id or dev["clientId"],
        client_secret or dev["clientSecret"],
        authority=dev["authorityHost"],
        **discovery,
    )


def answer(result):
    """The scenario's findings, as one JSON line on stdout, for the Node test to check."""
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
