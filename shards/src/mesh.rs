//! Shard-to-shard messages over glommio's channel mesh: a bounded channel per ordered
//! pair of shards, a non-blocking `try_send`, and one inbox per shard.

use std::cell::Cell;
use std::rc::Rc;

use glommio::channels::channel_mesh::{Receivers, Senders};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};

/// One shard's end of the mesh.
pub struct Mesh<M: Send + 'static> {
    senders: Senders<M>,
    inbox: LocalReceiver<M>,
    dropped: Rc<Cell<u64>>,
}

impl<M: Send + 'static> Mesh<M> {
    /// Wraps a joined mesh; spawns one forwarding task per peer into the local inbox.
    pub(crate) fn new(senders: Senders<M>, mut receivers: Receivers<M>) -> Self {
        let (tx, inbox): (LocalSender<M>, LocalReceiver<M>) = local_channel::new_unbounded();
        let tx = Rc::new(tx);
        for (_, rx) in receivers.streams() {
            let tx = Rc::clone(&tx);
            glommio::spawn_local(async move {
                while let Some(m) = rx.recv().await {
                    if tx.send(m).await.is_err() {
                        break;
                    }
                }
            })
            .detach();
        }
        Mesh {
            senders,
            inbox,
            dropped: Rc::new(Cell::new(0)),
        }
    }

    /// Sends to shard `to` without waiting. A full or closed channel (or `to` being
    /// this shard) drops the message, counts it, and returns `false`.
    pub fn try_send(&self, to: usize, msg: M) -> bool {
        let ok = self.senders.try_send_to(to, msg).is_ok();
        if !ok {
            self.dropped.set(self.dropped.get() + 1);
        }
        ok
    }

    /// The next message from any shard; `None` once every sender is gone.
    pub async fn recv_any(&self) -> Option<M> {
        self.inbox.recv().await
    }

    /// Messages that could not be sent because a channel was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}
