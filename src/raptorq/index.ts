// RFC 6330 RaptorQ codec (public face). The codec modules land here.
export {};
