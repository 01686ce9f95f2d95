// Which words of a command name a Location. A <Location> is a path and starts with '/'; a
// <LocationMatch> is named by its regex source (e.g. `^/rooms/[0-9]+$`), which need not, so
// such a name is recognised by being exactly the name of a configured or live Location.
import type { EndpointConfig } from '../config/model.js';
import type { Gateway } from '../plugins/types.js';
import { locationName } from '../config/location-match.js';

/** Says whether a (percent-decoded) word names a Location. */
export type LocationTest = (name: string) => boolean;

/** When nothing is known about the gateway (unit tests, the parser's default): paths only. */
export const pathLocations: LocationTest = (name) => name.startsWith('/');

/** configured: the Location names of the config's endpoints. Live connections are consulted too,
 *  only for words that are not paths, so the common case costs nothing. */
export function locationTest(configured: readonly string[], gateway: Gateway): LocationTest {
  const names = new Set(configured);
  return (name) => name.startsWith('/') || names.has(name) || gateway.connections().some((c) => c.location === name);
}

/** The Location names of a config's endpoints, as the registry names connections' Locations. */
export function locationNames(endpoints: readonly EndpointConfig[]): string[] {
  return endpoints.map(locationName);
}
