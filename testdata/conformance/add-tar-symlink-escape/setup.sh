t() { tar --mtime=@1000000000 --owner=0 --group=0 --numeric-owner "$@"; }
mkdir -p work && cd work
ln -s /etc link-out
t -cf ../evil.tar link-out
rm link-out && mkdir link-out && echo evil > link-out/evil-passwd
t -rf ../evil.tar link-out/evil-passwd
cd .. && rm -rf work
