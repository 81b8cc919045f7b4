mkdir -p p/sub && echo a > p/sub/a && echo b > p/b && chmod 0600 p/b && chmod 0750 p/sub
touch -d @1000000000 p/sub/a p/b p/sub p
tar --sort=name --mtime=@1000000000 --owner=1000 --group=50 --numeric-owner -C p -cf owned.tar .
# A tar with a hard link, a symlink, a setuid file and a fifo.
mkdir s && echo x > s/file && ln s/file s/hardlink && ln -s file s/symlink && echo y > s/suid && chmod 4755 s/suid && mkfifo s/fifo
touch -h -d @1000000000 s/* s
tar --sort=name --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C s -cf special.tar .
rm -rf p s
