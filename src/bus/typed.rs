//! Record topics of serde values on a [`Bus`]: `bus.typed::<OrderCreated>("order.created")`.
//!
//! A typed record topic is a record topic whose identity includes its values' type and codec:
//! a lookup with another type or codec is a [`BusError::TypeMismatch`] naming both (as
//! `(type, codec)`), so every record on it was encoded from that type by that codec. Raw
//! record subscribers ([`Bus::subscribe_records`], [`Bus::subscribe_pattern_records`]) may
//! still read it, as bytes (a bridge forwarding them unchanged, say).

use super::{table, Bus, Pattern, PatternReceiver, TypedPatternSubscriber};
use crate::error::BusError;
use crate::record::{Codec, Postcard, SharedTypedPublisher};
use core::any::{type_name, TypeId};
use serde::de::DeserializeOwned;
use serde::Serialize;

#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
impl Bus {
    /// A publisher of `T` values on record topic `name`, encoded with [`Postcard`], creating
    /// the topic if it does not exist (a ring of
    /// [`record_capacity`](super::BusBuilder::record_capacity) bytes). Its subscribers come
    /// from the publisher (`subscribe`, `subscribe_oldest`, `subscribe_gated_with`).
    ///
    /// Errors: an invalid name, [`BusError::TypeMismatch`] if the topic exists with another
    /// kind (a typed ring, raw records, or another type or codec), [`BusError::Capacity`].
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Debug, PartialEq)]
    /// struct OrderCreated { order_id: String, items: Vec<String>, total: f64 }
    ///
    /// let bus = seqcast::Bus::new();
    /// let mut orders = bus.typed::<OrderCreated>("order.created")?;
    /// let mut billing = orders.subscribe();
    /// let order = OrderCreated { order_id: "ord-17".into(), items: vec!["apple".into()], total: 1.5 };
    /// orders.send(&order).unwrap();
    /// assert_eq!(billing.try_recv(), Ok(order));
    /// assert!(bus.typed::<String>("order.created").is_err()); // another type
    /// # Ok::<(), seqcast::error::BusError>(())
    /// ```
    pub fn typed<T>(&self, name: &str) -> Result<SharedTypedPublisher<T, Postcard>, BusError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        self.typed_with::<T, Postcard>(name)
    }

    /// Like [`typed`](Self::typed), with codec `C` (e.g. `Json` with the `json` feature, for
    /// records that other languages read).
    pub fn typed_with<T, C>(&self, name: &str) -> Result<SharedTypedPublisher<T, C>, BusError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        C: Codec + Send + 'static,
    {
        let (id, found) = (TypeId::of::<(T, C)>(), type_name::<(T, C)>());
        let capacity = self.inner.record_capacity;
        self.inner.table.with_entry(
            name,
            || table::NewTopic::records(name, capacity, Some((id, found))),
            |entry| {
                let cell = entry.records(Some(id), found)?;
                Ok(SharedTypedPublisher::new(cell.publisher.clone()))
            },
        )
    }

    /// A subscriber to every record topic of `T` values encoded with [`Postcard`] whose name
    /// matches `pattern`, now and in the future; each message is `Ok(value)` (see
    /// [`TypedRecords`](super::TypedRecords)). Other topics are skipped.
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Serialize, Deserialize, Debug, PartialEq)]
    /// struct UserEvent { user: String, action: String }
    ///
    /// let bus = seqcast::Bus::new();
    /// let mut audit = bus.subscribe_pattern_typed::<UserEvent>("user.*")?;
    /// let mut created = bus.typed::<UserEvent>("user.created")?;
    /// created.send(&UserEvent { user: "ada".into(), action: "signup".into() }).unwrap();
    /// let (topic, event) = audit.try_recv().unwrap();
    /// assert_eq!(topic.as_str(), "user.created");
    /// assert_eq!(event.unwrap().user, "ada");
    /// # Ok::<(), seqcast::error::BusError>(())
    /// ```
    pub fn subscribe_pattern_typed<T>(
        &self,
        pattern: &str,
    ) -> Result<TypedPatternSubscriber<T, Postcard>, BusError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        self.subscribe_pattern_typed_with::<T, Postcard>(pattern)
    }

    /// Like [`subscribe_pattern_typed`](Self::subscribe_pattern_typed), for topics of codec `C`.
    pub fn subscribe_pattern_typed_with<T, C>(
        &self,
        pattern: &str,
    ) -> Result<TypedPatternSubscriber<T, C>, BusError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        C: Codec + Send + 'static,
    {
        let pattern = Pattern::parse(pattern)?;
        Ok(PatternReceiver::new(
            self.inner.clone(),
            pattern,
            self.inner.policy,
        ))
    }
}
