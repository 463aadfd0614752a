package models

// SourceEmbed marks a booking made through the booking form embedded in
// another site (/embed/…, web/static/embed.js).
const SourceEmbed = "embed"
