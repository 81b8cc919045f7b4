# Tars built here, with fixed names, owners and times.
mkdir -p payload/dir
echo hello > payload/dir/file
echo top > payload/top
ln -s dir/file payload/link
touch -d @1000000000 payload/dir/file payload/top payload/dir payload
t() { tar --sort=name --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C payload "$@" .; }
t -cf plain.tar
t -czf gz.tar.gz
t -cjf bz.tar.bz2
t -cJf xz.tar.xz
cp plain.tar dest-no-slash.tar
rm -rf payload
