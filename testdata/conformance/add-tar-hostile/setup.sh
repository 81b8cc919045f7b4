# evil.tar: inside.txt, ../up.txt, /tmp/strata-conformance-abs.txt and a symlink
# link-out -> /etc (see add-tar-symlink-escape for writing through it).
t() { tar --mtime=@1000000000 --owner=0 --group=0 --numeric-owner "$@"; }
mkdir -p work/in && cd work/in
echo up > ../up.txt
echo in > inside.txt
ln -s /etc link-out
echo abs > /tmp/strata-conformance-abs.txt
# -P keeps "../up.txt" and the absolute name as they are.
t -cPf ../../evil.tar inside.txt ../up.txt link-out /tmp/strata-conformance-abs.txt
rm /tmp/strata-conformance-abs.txt
cd ../.. && rm -rf work
