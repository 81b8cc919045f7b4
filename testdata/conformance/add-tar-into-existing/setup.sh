mkdir -p p/keep p/new && echo new > p/new/file && echo replaced > p/replaced && echo added > p/keep/added
touch -d @1000000000 p/new/file p/replaced p/keep/added p/new p/keep p
tar --sort=name --mtime=@1000000000 --owner=0 --group=0 --numeric-owner -C p -czf overlay.tar.gz .
rm -rf p
