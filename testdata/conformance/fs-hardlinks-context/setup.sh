# Git cannot hold hard links: make them here.
ln dir/one dir/two
mkdir dir/sub
ln dir/one dir/sub/three
