FROM archlinux:base-devel
RUN pacman -Syu --noconfirm && pacman -S --noconfirm --needed git go \
    && pacman -Scc --noconfirm
RUN useradd -m builder && echo 'builder ALL=(ALL) NOPASSWD: ALL' >> /etc/sudoers
USER builder
WORKDIR /home/builder
RUN git clone https://aur.archlinux.org/yay-bin.git && cd yay-bin && makepkg -si --noconfirm
