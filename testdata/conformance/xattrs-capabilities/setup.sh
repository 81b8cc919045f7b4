# File capabilities are the security.capability xattr (needs setcap, package libcap2-bin).
mkdir caps
cp /bin/true caps/ping
setcap cap_net_raw+ep caps/ping
echo x > caps/bind
setcap 'cap_net_bind_service=+eip' caps/bind
