# Needs setfattr (package attr) and setcap (libcap2-bin).
mkdir p
echo u > p/user-attr
setfattr -n user.comment -v "from a tar" p/user-attr
cp /bin/true p/capable
setcap cap_net_raw+ep p/capable
mkdir p/dir
setfattr -n user.on-dir -v yes p/dir
touch -d @1000000000 p/user-attr p/capable p/dir p
tar --xattrs --xattrs-include='user.*' --xattrs-include='security.capability' --sort=name \
	--mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C p -cf attrs.tar .
rm -rf p
