//! Errors collected while reading a derive input, reported together.

/// Every problem found, so that one build shows them all.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    pub fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    pub fn at(&mut self, span: proc_macro2::Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    /// An error spanning all of `tokens` (a whole type, not its first token).
    pub fn spanned(&mut self, tokens: impl quote::ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Keeps the error of a rule, if it was broken; the value otherwise.
    pub fn check<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    /// Whether any rule was broken so far.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn finish(self) -> syn::Result<()> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// All the errors of `results`, combined; `Ok` if there are none. A rule that can be
/// broken in several places at once reports each.
pub fn all(results: impl IntoIterator<Item = syn::Result<()>>) -> syn::Result<()> {
    let mut errors = Errors::default();
    for result in results {
        errors.check(result);
    }
    errors.finish()
}
