mkdir -p bundle p && echo in > p/in
tar --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C p -czf bundle/inner.tar.gz .
rm -rf p
