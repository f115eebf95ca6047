# -*- coding: utf-8 -*-
# Lookup plugin: a bearer token for a Veeam REST API from veeam-credential-helper.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: token
author: veeam-credential-helper contributors
version_added: "1.0.0"
short_description: Bearer token for a Veeam REST API from veeam-credential-helper
description:
  - Asks the C(veeam-credential-helper) binary for an access token of a configured profile of any
    product it knows - Veeam Backup for Microsoft 365 (C(vb365)), Veeam Backup for Microsoft Azure
    (C(vbazure)), Veeam Backup & Replication (C(vbr)), Veeam Backup for AWS (C(vbaws)), Veeam Backup
    for Google Cloud (C(vbgcp)), Veeam ONE (C(vone)) and Veeam Service Provider Console (C(vspc)).
    The helper answers from its encrypted cache,
    refreshes the token, or runs the profile's grant, sharing one server session per identity
    between every tool and process on the machine.
  - The request travels as JSON on the helper's standard input (C(get --format json)); no secret is
    ever put on a command line. Secrets (passwords, assertions, the cache passphrase) come from the
    profile's configured sources, for example environment variables of the controller.
  - Runs on the controller. Each term, if given, is a profile name and yields one result; with no
    terms the I(profile) option (or the helper's default profile) is used.
  - On failure the lookup raises a one-line error quoting the helper's message (for example
    rejected credentials or an unreachable server), never a secret.
options:
  _terms:
    description: Profile names. Optional; overrides I(profile) for each term.
    required: false
    type: list
    elements: str
  profile:
    description:
      - Profile name in the helper's configuration.
      - When unset the helper picks C($VEEAM_PROFILE), then C(default_profile), then the only profile.
    type: str
  config:
    description:
      - Path of the helper's configuration file.
      - When unset the helper uses C($VEEAM_CREDENTIAL_HELPER_CONFIG), then its default location.
    type: path
  format:
    description:
      - C(token) returns the bare access token.
      - C(header) returns the value of an C(Authorization) header, C(Bearer <token>).
      - C(json) returns the helper's whole answer as a dictionary (C(access_token), C(token_type),
        C(expires_at), C(profile), C(product), C(url), C(username), C(source)).
    type: str
    default: token
    choices: [token, header, json]
  min_valid:
    description:
      - The token must stay valid at least this long; a shorter-lived cached token is renewed first.
      - Seconds as an integer, or a duration such as C(90s), C(5m), C(1h30m).
    type: str
  binary:
    description:
      - Path of the C(veeam-credential-helper) executable.
      - Defaults to C($VEEAM_CREDENTIAL_HELPER_BIN), then C(veeam-credential-helper) on the C(PATH).
    type: path
    env:
      - name: VEEAM_CREDENTIAL_HELPER_BIN
notes:
  - "Mark tasks that would show the token (for example under C(-v)) with C(no_log: true)."
  - The error message names the helper's exit code (2 configuration, 3 credentials rejected,
    4 server unreachable, 5 interaction needed, 6 cache unavailable).
seealso:
  - name: veeam-credential-helper
    description: The helper binary, its configuration and its JSON protocol.
    link: https://github.com/veeam-tools/veeam-credential-helper
"""

EXAMPLES = r"""
- name: List VB365 organizations
  ansible.builtin.uri:
    url: https://vb365.example.com:4443/v8/Organizations
    headers:
      Authorization: "{{ lookup('veeam_tools.credential_helper.token', profile='m365', format='header') }}"
    ca_path: /etc/ssl/certs/vb365.pem
  register: orgs

- name: Bare token, valid for at least ten more minutes
  ansible.builtin.set_fact:
    vb365_token: "{{ lookup('veeam_tools.credential_helper.token', profile='m365', min_valid='10m') }}"
  no_log: true

- name: Whole answer with the expiry
  ansible.builtin.debug:
    msg: "token for {{ answer.username }} valid until {{ answer.expires_at }}"
  vars:
    answer: "{{ lookup('veeam_tools.credential_helper.token', 'azure', format='json',
                        config='/etc/veeam-credential-helper/config.toml') }}"
"""

RETURN = r"""
_raw:
  description:
    - One element per term (or one element without terms).
    - With I(format=token) the access token; with I(format=header) the string C(Bearer <token>);
      with I(format=json) a dictionary with C(access_token), C(token_type), C(expires_at) (RFC 3339, UTC;
      absent for a key that never expires, C(vspc) with C(grant = "api-key")), C(profile), C(product),
      C(url), C(username) and C(source) (C(cache), C(refresh) or C(grant)).
  type: list
  elements: raw
"""

import json
import os
import re
import shutil
import subprocess

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.plugins.lookup import LookupBase

BINARY_NAME = "veeam-credential-helper"

EXIT_MEANINGS = {
    1: "unexpected error",
    2: "usage or configuration error",
    3: "credentials rejected",
    4: "server unreachable",
    5: "interaction needed",
    6: "cache unavailable",
}

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_min_valid(value):
    """Seconds (int) from an integer or a Go-style duration like 1h30m, 90s, 5m."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = to_text(value).strip().replace(" ", "")
        if re.fullmatch(r"\d+", text):
            seconds = float(text)
        else:
            pos, seconds = 0, 0.0
            for m in _DURATION_PART.finditer(text):
                if m.start() != pos:
                    break
                n, unit = float(m.group(1)), m.group(2)
                seconds += n * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[unit]
                pos = m.end()
            if pos == 0 or pos != len(text):
                raise AnsibleLookupError(
                    "veeam_tools.credential_helper.token: min_valid %r is not a duration "
                    "(seconds, or e.g. 90s, 5m, 1h30m)" % text
                )
    if seconds < 0:
        raise AnsibleLookupError("veeam_tools.credential_helper.token: min_valid must not be negative")
    return int(seconds + 0.999)


def one_line(text, limit=300):
    """Collapse whitespace to one line and shorten it."""
    text = " ".join(to_text(text, errors="surrogate_or_replace").split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class LookupModule(LookupBase):
    def _binary(self):
        configured = self.get_option("binary")
        if configured:
            return configured
        found = shutil.which(BINARY_NAME)
        if not found:
            raise AnsibleLookupError(
                "veeam_tools.credential_helper.token: %s not found: set the lookup's binary option, "
                "$VEEAM_CREDENTIAL_HELPER_BIN, or put it on the PATH" % BINARY_NAME
            )
        return found

    def _ask(self, binary, config, profile, min_valid_seconds):
        argv = [binary]
        if config:
            argv += ["--config", config]
        argv += ["get", "--format", "json"]
        request = {}
        if profile:
            request["profile"] = profile
        if min_valid_seconds is not None:
            request["min_valid_seconds"] = min_valid_seconds
        prefix = "veeam_tools.credential_helper.token: "
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                close_fds=True,
            )
            stdout, stderr = proc.communicate(to_bytes(json.dumps(request)))
        except OSError as e:
            raise AnsibleLookupError(prefix + "cannot run %s: %s" % (binary, one_line(e.strerror or e)))

        answer = None
        try:
            answer = json.loads(to_text(stdout, errors="surrogate_or_strict"))
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            answer = None

        if proc.returncode != 0 or answer is None or "error" in answer:
            message, code = None, proc.returncode
            err = answer.get("error") if answer else None
            if isinstance(err, dict):
                message = err.get("message")
                code = err.get("exit_code") or code
            if not message:
                # The helper writes one line to stderr on failure; never quote stdout,
                # which may hold a credential.
                lines = [ln for ln in to_text(stderr, errors="surrogate_or_replace").splitlines() if ln.strip()]
                message = lines[-1] if lines else "no answer"
            if proc.returncode == 0 and answer is None:
                message = "the helper's answer is not JSON"
            message = one_line(message)
            if profile and profile not in message:
                message = "profile %s: %s" % (json.dumps(profile), message)
            meaning = EXIT_MEANINGS.get(code)
            suffix = " (exit %s%s)" % (code, ": " + meaning if meaning else "")
            raise AnsibleLookupError(prefix + message + suffix)

        if not answer.get("access_token"):
            raise AnsibleLookupError(prefix + "the helper's answer has no access_token")
        return answer

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        fmt = self.get_option("format")
        config = self.get_option("config")
        min_valid_seconds = parse_min_valid(self.get_option("min_valid"))
        binary = self._binary()

        profiles = [to_text(t) for t in (terms or []) if t is not None and to_text(t) != ""]
        if not profiles:
            profiles = [self.get_option("profile")]

        results = []
        for profile in profiles:
            answer = self._ask(binary, config, profile, min_valid_seconds)
            token = answer["access_token"]
            if fmt == "token":
                results.append(token)
            elif fmt == "header":
                results.append("%s %s" % (answer.get("token_type") or "Bearer", token))
            else:
                results.append(answer)
        return results
