// The views of the console, in navigation order. A new view is a module in this folder
// exporting { name, title, nav, mount } and one line here.
import * as live from './live.js';
import * as history from './history.js';
import * as inspection from './inspection.js';
import * as numbers from './numbers.js';
import * as status from './status.js';
import * as recipes from './recipes.js';

export const views = [live, history, numbers, recipes, status, inspection];
export const home = 'live';
