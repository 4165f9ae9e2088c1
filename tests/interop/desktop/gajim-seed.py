#!/usr/bin/python3
# tests/interop/desktop/gajim-seed.py ACCOUNT JID PASSWORD HOST PORT [TYPE [RESOURCE]]
# Writes a Gajim 1.7 profile (settings.sqlite) with one active account,
# through Gajim's own Settings class, so no account wizard is needed.
# HOME / XDG_* of the environment say where the profile goes.  The
# password is stored in the settings (use_keyring off: no keyring daemon
# in the test), the connection goes to HOST:PORT with STARTTLS (TYPE:
# Gajim's custom_type, 'START TLS' by default or 'DIRECT TLS').
import sys

from gajim.common import configpaths

account, jid, password, host, port = sys.argv[1:6]
ctype = sys.argv[6] if len(sys.argv) > 6 else 'START TLS'
resource = sys.argv[7] if len(sys.argv) > 7 else 'gajim'
configpaths.init()
configpaths.create_paths()
from gajim.common.settings import Settings  # noqa: E402

s = Settings()
s.init()
s.set_app_setting('use_keyring', False)
s.set_app_setting('check_for_update', False)
s.set_app_setting('show_help_start_chat', False)
if account not in s.get_accounts():
    s.add_account(account)
user, domain = jid.split('@', 1)
for k, v in (('name', user), ('hostname', domain), ('password', password),
             ('savepass', True), ('resource', resource), ('active', True),
             ('autoconnect', True), ('use_custom_host', True),
             ('custom_host', host), ('custom_port', int(port)),
             ('custom_type', ctype), ('account_label', account),
             ('confirm_unencrypted_connection', False)):
    s.set_account_setting(account, k, v)
s.save()
print('seeded', configpaths.get('SETTINGS'), configpaths.get('CERT_STORE'))
