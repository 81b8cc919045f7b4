# A 255-byte name, a path far beyond tar's 100-byte name field, and a long symlink target.
name255=$(printf 'n%.0s' $(seq 1 255))
deep=long/$(printf 'a%.0s' $(seq 1 60))/$(printf 'b%.0s' $(seq 1 60))/$(printf 'c%.0s' $(seq 1 60))/$(printf 'd%.0s' $(seq 1 60))
mkdir -p "$deep"
echo 255 > "long/$name255"
echo deep > "$deep/$(printf 'e%.0s' $(seq 1 200))"
ln -s "$(printf 't%.0s' $(seq 1 200))/$(printf 'u%.0s' $(seq 1 200))" long/long-target
