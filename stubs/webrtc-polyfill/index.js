// WebRTC is not available: bittorrent-tracker then skips websocket (WebRTC) trackers.
export const RTCPeerConnection = undefined;
export const RTCSessionDescription = undefined;
export const RTCIceCandidate = undefined;
export default {};
