// WebRTC is not available: bittorrent-tracker then skips websocket (WebRTC) trackers.
module.exports = {};
