# Extended attributes on context files (needs setfattr, package attr).
mkdir xattr
echo u > xattr/user-attr
setfattr -n user.comment -v "a comment" xattr/user-attr
setfattr -n user.empty xattr/user-attr
echo two > xattr/two-attrs
setfattr -n user.a -v 1 xattr/two-attrs
setfattr -n user.b -v 0x00ff xattr/two-attrs
mkdir xattr/dir
setfattr -n user.on-dir -v yes xattr/dir
