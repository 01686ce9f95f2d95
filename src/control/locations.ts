// Which words of a command name a Location. A <Location> is a path and starts with '/'; a
// <LocationMatch> is named by its regex source (e.g. `^/rooms/[0-9]+$`), which need not, so
// such a name is recognised by being exactly the name of a configured Location (every connection's
// Location is one of those).
import type { EndpointConfig } from '../config/model.js';
import { locationName } from '../config/location-match.js';

/** Says whether a (percent-decoded) word names a Location. */
export type LocationTest = (name: string) => boolean;

/** When nothing is known about the gateway (unit tests, the parser's default): paths only. */
export const pathLocations: LocationTest = (name) => name.startsWith('/');

/** configured: the Location names of the config's endpoints. A set lookup per word: BROADCAST asks
 *  for the first word of every text it sends. */
export function locationTest(configured: readonly string[]): LocationTest {
  const names = new Set(configured);
  return (name) => name.startsWith('/') || names.has(name);
}

/** The Location names of a config's endpoints, as the registry names connections' Locations. */
export function locationNames(endpoints: readonly EndpointConfig[]): string[] {
  return endpoints.map(locationName);
}
