package models

// ErasedName is what an erased lead's name reads as on staff pages.
const ErasedName = "(erased)"
