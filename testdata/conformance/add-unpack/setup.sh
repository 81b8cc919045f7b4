mkdir p && echo in > p/in && touch -d @1000000000 p/in p
tar --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C p -czf archive.tar.gz .
rm -rf p
