# -*- coding: utf-8 -*-
# Copyright: Contributors to the fleetops.workspaces project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Doc fragment of the session token as this collection reads it: ``AWS_SESSION_TOKEN``, else ``AWS_SECURITY_TOKEN``.

List it before ``amazon.aws.common.modules`` / ``amazon.aws.common.plugins`` in ``extends_documentation_fragment``: the
first fragment that documents an option wins, and amazon.aws's names ``AWS_SESSION_TOKEN`` only. The matching code is
``SESSION_TOKEN_ENV`` in ``plugins/module_utils/module.py`` (modules); for the inventory plugin the ``env`` list of the
``plugins`` variant below is the code (Ansible reads plugin options from it).
"""
from __future__ import annotations


class ModuleDocFragment:

    # Modules: the environment is read by the argument spec's fallback.
    DOCUMENTATION = r"""
options:
  session_token:
    description:
      - AWS STS session token for use with temporary credentials.
      - See the AWS documentation for more information about access tokens
        U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
      - The C(AWS_SESSION_TOKEN) environment variable may also be used and, when it is not set, C(AWS_SECURITY_TOKEN).
      - "The AWX / Automation Controller C(Amazon Web Services) credential sets both C(AWS_SESSION_TOKEN) and
        C(AWS_SECURITY_TOKEN) since AWX 21.11; older AWX releases and Ansible Tower set only C(AWS_SECURITY_TOKEN), which
        amazon.aws 10 and later no longer read. This collection keeps reading it for them."
      - The O(session_token) and O(profile) options are mutually exclusive.
    type: str
    aliases: ['aws_session_token']
"""

    # Inventory plugins: Ansible reads the environment variables listed here, and the last one that is set wins, so
    # AWS_SESSION_TOKEN comes last (with AWX 21.11 and later both hold the same value).
    PLUGINS = r"""
options:
  session_token:
    description:
      - AWS STS session token for use with temporary credentials.
      - See the AWS documentation for more information about access tokens
        U(https://docs.aws.amazon.com/general/latest/gr/aws-sec-cred-types.html#access-keys-and-secret-access-keys).
      - Read from C(AWS_SESSION_TOKEN) or, when it is not set, from C(AWS_SECURITY_TOKEN).
      - "The AWX / Automation Controller C(Amazon Web Services) credential sets both C(AWS_SESSION_TOKEN) and
        C(AWS_SECURITY_TOKEN) since AWX 21.11; older AWX releases and Ansible Tower set only C(AWS_SECURITY_TOKEN), which
        amazon.aws 10 and later no longer read. This collection keeps reading it for them."
      - The O(session_token) and O(profile) options are mutually exclusive.
    type: str
    aliases: ['aws_session_token']
    env:
      - name: AWS_SECURITY_TOKEN
      - name: AWS_SESSION_TOKEN
"""
