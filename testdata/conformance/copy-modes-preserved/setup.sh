# Modes git does not keep, and the empty directories it does not keep either.
mkdir -p tree/private tree/shared
chmod 0755 tree/exec
chmod 0600 tree/secret
chmod 0444 tree/plain
chmod 4755 tree/setuid
chmod 0700 tree/private
chmod 1777 tree/shared
chmod 2755 tree/sticky
