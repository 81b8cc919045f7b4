mkdir payload && echo inside > payload/inside && touch -d @1000000000 payload/inside payload
tar --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C payload -cJf archive.bin .
echo "text, not gzip" > fake.tar.gz
echo "text, not a tar" > notatar.tar
echo "a gzip of one file, not a tar" | gzip -n > compressed-file.gz
rm -rf payload
touch -d "@$CONTEXT_EPOCH" archive.bin fake.tar.gz notatar.tar compressed-file.gz
