# Git keeps no empty folders.
mkdir -p empty parent/empty-child
touch -d "@$CONTEXT_EPOCH" empty parent/empty-child parent
